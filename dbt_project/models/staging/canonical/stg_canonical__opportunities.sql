with source as (
    select * from {{ source('canonical', 'opportunities') }}
),

deduplicated as (
    {{ deduplicate('source', 'opportunity_id', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        opportunity_id,
        account_id,
        owner_id,
        lead_id,
        sdr_id,
        created_at,
        close_date,
        opportunity_stage,
        product,
        amount,
        upper(currency) as currency,
        opportunity_type,
        is_closed,
        is_won,
        lost_reason,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
