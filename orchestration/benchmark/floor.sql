-- The bare-DuckDB floor: the core work of the warehouse in plain SQL, nothing else.
--
-- orchestration/lib/benchmark.py (run_floor) first creates one view per landing entity,
-- landing_<entity>, over DuckDB's read_csv of the same landing files the pipeline reads
-- (`<entity>.csv` and `<entity>/*.csv`), then runs this script into a DuckDB file. What it
-- computes, and what the project computes with far more around it (typing, quarantine, quality
-- gate, many more KPIs):
--   funnel_cohort        leads -> opportunity -> won, by lead creation month
--   win_rate             won / closed opportunities by close month and team (numerator and
--                        denominator kept), and for the company
--   sales_cycle          median, p75, p90 of close_date - created date of won deals, by close
--                        month and overall
--   activity_scorecard   activities (count per type) and minutes, per rep, team and company at
--                        five grains: day, week (ISO, Monday), month, quarter, fiscal year
--   won_scorecard        won deals and won amount per rep, team and company at the same grains
-- `__FISCAL_OFFSET__` is replaced by (fiscal year start month - 1): 3 for a year starting in
-- April.

create or replace table rep as
select user_id, min(coalesce(nullif(team_id, ''), 'unassigned')) as team_id
from landing_users
group by user_id;

create or replace table opportunity as
select
    opportunity_id,
    nullif(lead_id, '') as lead_id,
    owner_id,
    cast(created_at as timestamp) as created_at,
    cast(close_date as date) as close_date,
    cast(is_closed as boolean) as is_closed,
    cast(is_won as boolean) as is_won,
    cast(amount as decimal(18, 2)) as amount,
    currency
from landing_opportunities;

create or replace table funnel_cohort as
with lead_outcome as (
    select lead_id, bool_or(is_won) as is_won
    from opportunity
    where lead_id is not null
    group by lead_id
)
select
    cast(date_trunc('month', cast(l.created_at as timestamp)) as date) as cohort_month,
    count(*) as leads,
    count(o.lead_id) as leads_to_opportunity,
    count(*) filter (where o.is_won) as leads_to_won,
    count(o.lead_id) / nullif(count(*), 0) as lead_to_opportunity_rate,
    count(*) filter (where o.is_won) / nullif(count(o.lead_id), 0) as opportunity_to_won_rate
from landing_leads as l
left join lead_outcome as o on o.lead_id = l.lead_id
group by 1;

create or replace table win_rate as
with closed as (
    select
        cast(date_trunc('month', o.close_date) as date) as close_month,
        coalesce(r.team_id, 'unassigned') as team_id,
        o.is_won
    from opportunity as o
    left join rep as r on r.user_id = o.owner_id
    where o.is_closed and o.close_date is not null
)
select
    close_month,
    case when grouping(team_id) = 1 then 'company' else 'team' end as scope_type,
    coalesce(team_id, 'company') as scope_id,
    count(*) filter (where is_won) as won,
    count(*) as closed,
    count(*) filter (where is_won) / nullif(count(*), 0) as win_rate
from closed
group by grouping sets ((close_month, team_id), (close_month));

create or replace table sales_cycle as
with won as (
    select
        cast(date_trunc('month', close_date) as date) as close_month,
        close_date - cast(created_at as date) as cycle_days
    from opportunity
    where is_won and created_at is not null and close_date is not null
)
select
    close_month,
    count(*) as won_deals,
    quantile_cont(cycle_days, 0.5) as median_days,
    quantile_cont(cycle_days, 0.75) as p75_days,
    quantile_cont(cycle_days, 0.9) as p90_days
from won
group by grouping sets ((close_month), ());

create or replace table grain as
select * from (values ('day'), ('week'), ('month'), ('quarter'), ('fiscal_year')) as g (grain);

create or replace table activity_scorecard as
with activity as (
    select
        cast(cast(a.activity_at as timestamp) as date) as activity_date,
        a.activity_type,
        cast(nullif(a.duration_minutes, '') as integer) as duration_minutes,
        a.owner_id,
        coalesce(r.team_id, 'unassigned') as team_id
    from landing_activities as a
    left join rep as r on r.user_id = a.owner_id
),
dated as (
    select
        g.grain,
        case g.grain
            when 'day' then a.activity_date
            when 'week' then cast(date_trunc('week', a.activity_date) as date)
            when 'month' then cast(date_trunc('month', a.activity_date) as date)
            when 'quarter' then cast(date_trunc('quarter', a.activity_date) as date)
            else cast(
                date_trunc('year', a.activity_date - interval (__FISCAL_OFFSET__) month)
                + interval (__FISCAL_OFFSET__) month as date
            )
        end as period_start,
        a.*
    from activity as a
    cross join grain as g
)
select
    grain,
    period_start,
    case when grouping(team_id) = 1 then 'company'
         when grouping(owner_id) = 1 then 'team' else 'rep' end as scope_type,
    coalesce(owner_id, team_id, 'company') as scope_id,
    count(*) as activities,
    count(*) filter (where activity_type = 'call') as calls,
    count(*) filter (where activity_type = 'email') as emails,
    count(*) filter (where activity_type = 'meeting') as meetings,
    count(*) filter (where activity_type = 'task') as tasks,
    coalesce(sum(duration_minutes), 0) as minutes
from dated
group by grouping sets ((grain, period_start, team_id, owner_id), (grain, period_start, team_id),
    (grain, period_start));

create or replace table won_scorecard as
with won as (
    select o.close_date, o.amount, o.currency, o.owner_id, coalesce(r.team_id, 'unassigned') as team_id
    from opportunity as o
    left join rep as r on r.user_id = o.owner_id
    where o.is_won and o.close_date is not null
),
dated as (
    select
        g.grain,
        case g.grain
            when 'day' then w.close_date
            when 'week' then cast(date_trunc('week', w.close_date) as date)
            when 'month' then cast(date_trunc('month', w.close_date) as date)
            when 'quarter' then cast(date_trunc('quarter', w.close_date) as date)
            else cast(
                date_trunc('year', w.close_date - interval (__FISCAL_OFFSET__) month)
                + interval (__FISCAL_OFFSET__) month as date
            )
        end as period_start,
        w.*
    from won as w
    cross join grain as g
)
select
    grain,
    period_start,
    currency,
    case when grouping(team_id) = 1 then 'company'
         when grouping(owner_id) = 1 then 'team' else 'rep' end as scope_type,
    coalesce(owner_id, team_id, 'company') as scope_id,
    count(*) as won_deals,
    sum(amount) as won_amount
from dated
group by grouping sets ((grain, period_start, currency, team_id, owner_id),
    (grain, period_start, currency, team_id), (grain, period_start, currency));
