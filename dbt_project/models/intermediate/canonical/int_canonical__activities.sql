{#- Every activities row of every source: the canonical rows (stg_canonical__activities)
    and the Salesforce rows the dbt rules keep (int_salesforce__activities), with the same
    clean-up (macro canonical_activities). -#}
{{ canonical_union(
    'activities',
    [
        'activity_id',
        'activity_type',
        'activity_at',
        'owner_id',
        'outcome',
        'duration_minutes',
        'lead_id',
        'opportunity_id',
        'account_id',
    ],
    {'duration_minutes': dbt.type_bigint()}
) }}
