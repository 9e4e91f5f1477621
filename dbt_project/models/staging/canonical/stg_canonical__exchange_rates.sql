with source as (
    select * from {{ source('canonical', 'exchange_rates') }}
),

deduplicated as (
    {{ deduplicate(
        'source',
        'rate_date, from_currency, to_currency',
        '_source_file desc, _row_number desc'
    ) }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        rate_date,
        upper(from_currency) as from_currency,
        upper(to_currency) as to_currency,
        rate,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
