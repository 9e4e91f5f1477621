{#- Salesforce stage changes in the canonical opportunity_stage_history entity: the kept rows
    of int_salesforce__opportunity_stage_history_checked. -#}
{{ crm_kept_rows(
    'int_salesforce__opportunity_stage_history_checked',
    'opportunity_stage_history'
) }}
