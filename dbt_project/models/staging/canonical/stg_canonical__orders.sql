with source as (
    select * from {{ source('canonical', 'orders') }}
),

deduplicated as (
    {{ deduplicate('source', 'order_id', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        order_id,
        account_id,
        ordered_at,
        cast(ordered_at as date) as ordered_date,
        amount as order_amount,
        upper(currency) as currency,
        quantity,
        product,
        opportunity_id,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
