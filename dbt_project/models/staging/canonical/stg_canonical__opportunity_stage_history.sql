with source as (
    select * from {{ source('canonical', 'opportunity_stage_history') }}
),

deduplicated as (
    {{ deduplicate(
        'source',
        'opportunity_id, changed_at, opportunity_stage',
        '_source_file desc, _row_number desc'
    ) }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        opportunity_id,
        {{ neutralised_text('opportunity_stage') }} as opportunity_stage,
        changed_at as stage_entered_at,
        changed_by_id,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
