{#- Every opportunity stage history row of every source: the canonical rows
    (stg_canonical__opportunity_stage_history) and the rows the dbt rules of each CRM keep
    (int_salesforce__opportunity_stage_history, int_hubspot__opportunity_stage_history), with
    the same clean-up (macro canonical_opportunity_stage_history). -#}
{{ canonical_union('opportunity_stage_history') }}
