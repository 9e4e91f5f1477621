{#- Every contacts row of every source: the canonical rows (stg_canonical__contacts)
    and the Salesforce rows the dbt rules keep (int_salesforce__contacts), with the same
    clean-up (macro canonical_contacts). -#}
{{ canonical_union(
    'contacts',
    [
        'contact_id',
        'account_id',
        'full_name',
        'email',
        'phone',
        'title',
        'created_at',
    ]
) }}
