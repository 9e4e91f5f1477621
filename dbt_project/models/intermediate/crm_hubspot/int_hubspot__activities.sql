{#- HubSpot calls, e-mails and meetings in the canonical activities entity: the kept rows of
    int_hubspot__activities_checked. -#}
{{ crm_kept_rows('int_hubspot__activities_checked', 'activities', extra_columns=['subject']) }}
