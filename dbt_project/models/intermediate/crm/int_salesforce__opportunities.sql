{#- Salesforce opportunities in the canonical opportunities entity: the kept rows of
    int_salesforce__opportunities_checked. -#}
{{ crm_kept_rows('int_salesforce__opportunities_checked', 'opportunities') }}
