{#- Salesforce leads in the canonical leads entity: the kept rows of
    int_salesforce__leads_checked. -#}
{{ crm_kept_rows('int_salesforce__leads_checked', 'leads') }}
