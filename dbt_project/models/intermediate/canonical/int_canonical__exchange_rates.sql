{#- Every exchange rates row of every source: the canonical rows (stg_canonical__exchange_rates) and
    the Salesforce rows the dbt rules keep (int_salesforce__exchange_rates; HubSpot exports give
    no rates), with the same clean-up (macro canonical_exchange_rates). -#}
{{ canonical_union(
    'exchange_rates',
    deduplicate_by='rate_date, from_currency, to_currency',
    output_columns=[
        'source_system',
        'source_file',
        'source_row',
        'rate_date',
        'from_currency',
        'to_currency',
        'rate',
        'loaded_at',
    ],
) }}
