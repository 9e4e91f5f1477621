-- The free-text subject may hold personal data and is not carried past staging.
with source as (
    select * from {{ source('canonical', 'activities') }}
),

deduplicated as (
    {{ deduplicate('source', 'activity_id', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        activity_id,
        activity_type,
        activity_at,
        owner_id,
        outcome as activity_outcome,
        {{ non_negative_value('duration_minutes') }} as duration_minutes,
        lead_id,
        opportunity_id,
        account_id,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
