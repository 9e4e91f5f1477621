{#- HubSpot owners in the canonical users entity: the kept rows of int_hubspot__users_checked. -#}
{{ crm_kept_rows('int_hubspot__users_checked', 'users') }}
