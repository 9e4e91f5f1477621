{#- Every opportunities row of every source: the canonical rows (stg_canonical__opportunities)
    and the Salesforce rows the dbt rules keep (int_salesforce__opportunities), with the same
    clean-up (macro canonical_opportunities). -#}
{{ canonical_union(
    'opportunities',
    [
        'opportunity_id',
        'account_id',
        'owner_id',
        'lead_id',
        'sdr_id',
        'created_at',
        'close_date',
        'opportunity_stage',
        'amount',
        'product',
        'currency',
        'opportunity_type',
        'is_closed',
        'is_won',
        'lost_reason',
    ],
    {'amount': 'decimal(18, 2)'}
) }}
