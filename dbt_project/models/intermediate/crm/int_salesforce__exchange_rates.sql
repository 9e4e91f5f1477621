{#- Salesforce dated exchange rates in the canonical exchange_rates entity: the kept rows of
    int_salesforce__exchange_rates_checked. -#}
{{ crm_kept_rows('int_salesforce__exchange_rates_checked', 'exchange_rates') }}
