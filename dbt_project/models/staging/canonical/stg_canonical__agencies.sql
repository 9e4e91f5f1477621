with source as (
    select * from {{ source('canonical', 'agencies') }}
),

deduplicated as (
    {{ deduplicate('source', 'agency_id', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        agency_id,
        {{ neutralised_text('agency_name') }} as agency_name,
        {{ neutralised_text('lower(fee_model)') }} as fee_model,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
