with users as (
    select * from {{ ref('stg_canonical__users') }}
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

final as (
    select * from teams
    union all
    select * from unassigned
    where not exists (
            select 1 from teams
            where teams.team_id = 'unassigned'
        )
)

select * from final
