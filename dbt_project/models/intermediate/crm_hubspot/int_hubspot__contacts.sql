{#- HubSpot contacts in the canonical contacts entity: the kept rows of
    int_hubspot__contacts_checked. -#}
{{ crm_kept_rows('int_hubspot__contacts_checked', 'contacts') }}
