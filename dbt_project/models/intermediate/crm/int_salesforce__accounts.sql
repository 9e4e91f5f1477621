{#- Salesforce accounts in the canonical accounts entity: the kept rows of
    int_salesforce__accounts_checked. -#}
{{ crm_kept_rows('int_salesforce__accounts_checked', 'accounts') }}
