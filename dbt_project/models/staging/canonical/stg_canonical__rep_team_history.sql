with source as (
    select * from {{ source('canonical', 'rep_team_history') }}
),

deduplicated as (
    {{ deduplicate('source', 'user_id, valid_from_date', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        user_id,
        team_id,
        coalesce(team_name, team_id) as team_name,
        valid_from_date,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
