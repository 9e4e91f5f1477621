{#- Salesforce tasks and events in the canonical activities entity: the kept rows of
    int_salesforce__activities_checked. -#}
{{ crm_kept_rows('int_salesforce__activities_checked', 'activities', extra_columns=['subject']) }}
