{#- HubSpot deals in the canonical opportunities entity: the kept rows of
    int_hubspot__opportunities_checked. -#}
{{ crm_kept_rows('int_hubspot__opportunities_checked', 'opportunities') }}
