with source as (
    select * from {{ source('canonical', 'spend') }}
),

deduplicated as (
    {{ deduplicate(
        'source',
        "spend_month, channel, coalesce(agency_id, ''), spend_category",
        '_source_file desc, _row_number desc'
    ) }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        spend_month as spend_month_start_date,
        lower(channel) as channel,
        agency_id,
        spend_category,
        amount as spend_amount,
        upper(currency) as currency,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
