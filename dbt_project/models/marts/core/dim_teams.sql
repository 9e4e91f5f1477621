with users as (
    select * from {{ ref('int_canonical__users') }}
),

units as (
    select * from {{ ref('stg_canonical__teams') }}
),

teams as (
    select
        team_id,
        max(team_name) as team_name,
        cast(count(*) as bigint) as rep_count,
        cast(sum(case when rep_role = 'SDR' then 1 else 0 end) as bigint) as sdr_count,
        cast(sum(case when rep_role = 'AE' then 1 else 0 end) as bigint) as ae_count,
        cast(sum(case when sales_motion = 'inside' then 1 else 0 end) as bigint) as inside_rep_count,
        cast(sum(case when sales_motion = 'field' then 1 else 0 end) as bigint) as field_rep_count
    from users
    group by team_id
),

unassigned as (
    select
        'unassigned' as team_id,
        '未割当' as team_name,
        0 as rep_count,
        0 as sdr_count,
        0 as ae_count,
        0 as inside_rep_count,
        0 as field_rep_count
),

-- Teams of the users and the units of the teams export (managers, offices, regions...),
-- each with its parent and level.
with_units as (
    select
        teams.team_id,
        coalesce(units.team_name, teams.team_name) as team_name,
        teams.rep_count,
        teams.sdr_count,
        teams.ae_count,
        teams.inside_rep_count,
        teams.field_rep_count
    from teams
    left join units
        on teams.team_id = units.team_id
    union all
    select
        units.team_id,
        units.team_name,
        0,
        0,
        0,
        0,
        0
    from units
    where not exists (select 1 from teams where teams.team_id = units.team_id)
    union all
    select * from unassigned
    where not exists (
            select 1 from teams
            where teams.team_id = 'unassigned'
        )
),

final as (
    select
        with_units.team_id,
        with_units.team_name,
        units.parent_team_id,
        coalesce(units.unit_level, 'team') as unit_level,
        cast(with_units.rep_count as bigint) as rep_count,
        cast(with_units.sdr_count as bigint) as sdr_count,
        cast(with_units.ae_count as bigint) as ae_count,
        cast(with_units.inside_rep_count as bigint) as inside_rep_count,
        cast(with_units.field_rep_count as bigint) as field_rep_count
    from with_units
    left join units
        on with_units.team_id = units.team_id
)

select * from final
