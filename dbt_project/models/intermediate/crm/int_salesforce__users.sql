{#- Salesforce users in the canonical users entity: the kept rows of
    int_salesforce__users_checked. -#}
{{ crm_kept_rows('int_salesforce__users_checked', 'users') }}
