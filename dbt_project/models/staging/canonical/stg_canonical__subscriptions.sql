with source as (
    select * from {{ source('canonical', 'subscriptions') }}
),

deduplicated as (
    {{ deduplicate('source', 'subscription_item_id', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        subscription_item_id,
        subscription_id,
        account_id,
        {{ neutralised_text('product') }} as product,
        start_date,
        end_date,
        mrr_amount,
        upper(currency) as currency,
        opportunity_id,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
