{#- HubSpot companies in the canonical accounts entity: the kept rows of
    int_hubspot__accounts_checked. -#}
{{ crm_kept_rows('int_hubspot__accounts_checked', 'accounts') }}
