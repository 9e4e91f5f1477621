-- Every scorecard KPI as additive numerator / denominator per day and rep (the owner of the
-- record), up to the as-of date: the base that kpi_scorecard rolls up to any period and scope.
-- Only facts dated on or before the as-of date count, so a past as-of date gives what the
-- marts said then (for facts that have not been edited since).
with leads as (
    select * from {{ ref('fct_leads') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

funnel_steps as (
    select * from {{ ref('int_opportunity_funnel_steps') }}
),

facts as (
    select
        created_date as fact_date,
        rep_id,
        'leads_created' as kpi_code,
        1.0 as numerator,
        0.0 as denominator
    from leads

    union all
    select
        activity_date,
        rep_id,
        'calls',
        1.0,
        0.0
    from activities
    where is_call

    union all
    select
        activity_date,
        rep_id,
        'connect_rate',
        case when is_connected_call then 1.0 else 0.0 end,
        1.0
    from activities
    where is_call

    union all
    select
        activity_date,
        rep_id,
        'email_open_rate',
        case when is_email_opened then 1.0 else 0.0 end,
        1.0
    from activities
    where is_email_sent

    union all
    select
        activity_date,
        rep_id,
        'appointments',
        1.0,
        0.0
    from activities
    where is_appointment_set

    union all
    select
        activity_date,
        rep_id,
        'appointment_rate',
        case when is_appointment_set then 1.0 else 0.0 end,
        1.0
    from activities
    where is_call

    union all
    select
        activity_date,
        rep_id,
        'meetings_held',
        1.0,
        0.0
    from activities
    where is_meeting_held

    union all
    select
        created_date,
        rep_id,
        'opportunities_created',
        1.0,
        0.0
    from opportunities

    union all
    select
        cast(funnel_steps.reached_at as date),
        opportunities.rep_id,
        'qualified_opportunities',
        1.0,
        0.0
    from funnel_steps
    inner join opportunities
        on funnel_steps.opportunity_id = opportunities.opportunity_id
    where funnel_steps.funnel_step_order = {{ var('qualified_funnel_step_order') }}

    union all
    select
        won_date,
        rep_id,
        'deals_won',
        1.0,
        0.0
    from opportunities
    where is_won

    union all
    select
        lost_date,
        rep_id,
        'deals_lost',
        1.0,
        0.0
    from opportunities
    where is_lost

    union all
    select
        coalesce(won_date, lost_date),
        rep_id,
        'win_rate',
        case when is_won then 1.0 else 0.0 end,
        1.0
    from opportunities
    where is_closed

    union all
    select
        won_date,
        rep_id,
        'won_amount',
        cast(amount_reporting as {{ type_double() }}),
        0.0
    from opportunities
    where is_won

    union all
    select
        won_date,
        rep_id,
        'average_deal_size',
        cast(amount_reporting as {{ type_double() }}),
        1.0
    from opportunities
    where is_won

    union all
    select
        first_wins.won_date,
        first_wins.rep_id,
        'new_customers',
        1.0,
        0.0
    from (
        select
            account_id,
            won_date,
            rep_id,
            row_number() over (
                partition by account_id order by won_date, opportunity_id
            ) as win_sequence
        from opportunities
        where is_won
    ) as first_wins
    where first_wins.win_sequence = 1
),

final as (
    select
        fact_date,
        rep_id,
        kpi_code,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from facts
    where fact_date is not null and fact_date <= {{ as_of_date() }}
    group by fact_date, rep_id, kpi_code
)

select * from final
