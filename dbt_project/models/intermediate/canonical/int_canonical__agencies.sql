{#- Every agencies row of every source: the canonical rows (stg_canonical__agencies)
    and the Salesforce rows the dbt rules keep (int_salesforce__agencies), with the same
    clean-up (macro canonical_agencies). -#}
{{ canonical_union(
    'agencies',
    [
        'agency_id',
        'agency_name',
        'fee_model',
    ]
) }}
