-- The product catalog (optional products export), with the lenient key deals are matched on
-- (product_match_key: case, spaces and punctuation ignored, so GTXPro = GTX Pro).
with source as (
    select * from {{ source('canonical', 'products') }}
),

deduplicated as (
    {{ deduplicate('source', 'product', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        {{ neutralised_text('product') }} as product,
        {{ product_match_key('product') }} as product_match_key,
        series,
        list_price,
        upper(currency) as currency,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
