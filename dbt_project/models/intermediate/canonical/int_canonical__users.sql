{#- Every users row of every source: the canonical rows (stg_canonical__users)
    and the Salesforce rows the dbt rules keep (int_salesforce__users), with the same
    clean-up (macro canonical_users). -#}
{{ canonical_union(
    'users',
    [
        'user_id',
        'user_name',
        'email',
        'team_id',
        'team_name',
        'role',
        'motion',
        'agency_id',
        'hired_date',
        'is_active',
    ]
) }}
