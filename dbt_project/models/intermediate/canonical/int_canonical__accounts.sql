{#- Every accounts row of every source: the canonical rows (stg_canonical__accounts)
    and the Salesforce rows the dbt rules keep (int_salesforce__accounts), with the same
    clean-up (macro canonical_accounts). -#}
{{ canonical_union(
    'accounts',
    [
        'account_id',
        'account_name',
        'corporate_number',
        'industry',
        'employee_band',
        'employee_count',
        'prefecture',
        'created_at',
    ],
    {'employee_count': dbt.type_bigint()}
) }}
