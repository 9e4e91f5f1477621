with source as (
    select * from {{ source('canonical', 'users') }}
),

deduplicated as (
    {{ deduplicate('source', 'user_id', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        user_id,
        user_name,
        email as user_email,
        team_id,
        coalesce(team_name, team_id) as team_name,
        upper(role) as rep_role,
        lower(motion) as sales_motion,
        agency_id,
        agency_id is not null as is_agency_rep,
        hired_date,
        coalesce(is_active, true) as is_active,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
