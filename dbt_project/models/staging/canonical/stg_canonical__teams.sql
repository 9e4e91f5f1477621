-- The sales organisation above the reps (optional teams export): each team or unit names its
-- parent (team -> manager -> office -> region, any depth the export has).
with source as (
    select * from {{ source('canonical', 'teams') }}
),

deduplicated as (
    {{ deduplicate('source', 'team_id', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        team_id,
        coalesce({{ neutralised_text('team_name') }}, team_id) as team_name,
        parent_team_id,
        coalesce(lower(unit_level), 'team') as unit_level,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
