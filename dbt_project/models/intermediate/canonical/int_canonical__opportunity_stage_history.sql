{#- Every opportunity stage history row of every source: the canonical rows (stg_canonical__opportunity_stage_history)
    and the Salesforce rows the dbt rules keep (int_salesforce__opportunity_stage_history), with the same
    clean-up (macro canonical_opportunity_stage_history). -#}
{{ canonical_union(
    'opportunity_stage_history',
    [
        'opportunity_id',
        'opportunity_stage',
        'changed_at',
        'changed_by_id',
    ]
) }}
