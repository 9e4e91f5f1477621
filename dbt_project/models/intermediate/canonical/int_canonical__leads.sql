{#- Every leads row of every source: the canonical rows (stg_canonical__leads)
    and the Salesforce rows the dbt rules keep (int_salesforce__leads), with the same
    clean-up (macro canonical_leads). -#}
{{ canonical_union(
    'leads',
    [
        'lead_id',
        'created_at',
        'lead_source',
        'lead_status',
        'owner_id',
        'agency_id',
        'account_id',
        'contact_id',
        'converted_at',
        'converted_opportunity_id',
    ]
) }}
