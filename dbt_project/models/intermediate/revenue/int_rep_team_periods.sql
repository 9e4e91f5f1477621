-- The team of every rep over time: rows of rep_team_history as [valid_from, valid_to) periods;
-- a rep without history is in users.team_id for all time. Used to count every fact for the
-- team the rep belonged to on its date (targets are per team, and people move).
with history as (
    select * from {{ ref('stg_canonical__rep_team_history') }}
),

users as (
    select * from {{ ref('int_canonical__users') }}
),

periods as (
    select
        user_id as rep_id,
        team_id,
        valid_from_date,
        lead(valid_from_date) over (partition by user_id order by valid_from_date)
            as valid_to_date
    from history
),

-- Before a rep's first history row, the earliest known team applies.
first_rows as (
    select
        rep_id,
        team_id,
        cast('1900-01-01' as date) as valid_from_date,
        valid_from_date as valid_to_date,
        row_number() over (partition by rep_id order by valid_from_date) as history_position
    from periods
),

without_history as (
    select
        users.user_id as rep_id,
        users.team_id,
        cast('1900-01-01' as date) as valid_from_date,
        cast(null as date) as valid_to_date
    from users
    where users.user_id not in (select periods.rep_id from periods)
),

final as (
    select
        rep_id,
        team_id,
        valid_from_date,
        valid_to_date
    from periods
    union all
    select
        rep_id,
        team_id,
        valid_from_date,
        valid_to_date
    from first_rows
    where history_position = 1
    union all
    select * from without_history
)

select * from final
