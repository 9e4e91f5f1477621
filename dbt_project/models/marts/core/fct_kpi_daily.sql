-- noqa: disable=AL03
-- (union members take their column names from the first select)
-- Every scorecard KPI as additive numerator / denominator per day × rep (the owner of the
-- record) × lead source, up to the as-of date, with the rep's team on that day, role, motion
-- and agency: the base that kpi_scorecard rolls up to any period and scope.
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

mrr as (
    select * from {{ ref('fct_mrr_movements') }}
),

reps as (
    select * from {{ ref('dim_reps') }}
),

team_periods as (
    select * from {{ ref('int_rep_team_periods') }}
),

lead_sources as (
    select * from {{ ref('dim_lead_sources') }}
),

facts as (
    select
        created_date as fact_date,
        rep_id,
        lead_source,
        'leads_created' as kpi_code,
        1.0 as numerator,
        0.0 as denominator
    from leads

    -- Cohort variant: leads created on the day that had converted by the as-of date.
    union all
    select
        created_date,
        rep_id,
        lead_source,
        'lead_to_opportunity_rate',
        case
            when is_converted and cast(converted_at as date) <= {{ as_of_date() }} then 1.0
            else 0.0
        end,
        1.0
    from leads

    union all
    select
        activity_date,
        rep_id,
        cast(null as {{ dbt.type_string() }}),
        'calls',
        1.0,
        0.0
    from activities
    where is_call

    union all
    select
        activity_date,
        rep_id,
        cast(null as {{ dbt.type_string() }}),
        'connect_rate',
        case when is_connected_call then 1.0 else 0.0 end,
        1.0
    from activities
    where is_call

    union all
    select
        activity_date,
        rep_id,
        cast(null as {{ dbt.type_string() }}),
        'email_open_rate',
        case when is_email_opened then 1.0 else 0.0 end,
        1.0
    from activities
    where is_email_sent

    union all
    select
        activity_date,
        rep_id,
        cast(null as {{ dbt.type_string() }}),
        'appointments',
        1.0,
        0.0
    from activities
    where is_appointment_set

    union all
    select
        activity_date,
        rep_id,
        cast(null as {{ dbt.type_string() }}),
        'appointment_rate',
        case when is_appointment_set then 1.0 else 0.0 end,
        1.0
    from activities
    where is_call

    union all
    select
        activity_date,
        rep_id,
        cast(null as {{ dbt.type_string() }}),
        'meetings_held',
        1.0,
        0.0
    from activities
    where is_meeting_held

    union all
    select
        created_date,
        rep_id,
        lead_source,
        'opportunities_created',
        1.0,
        0.0
    from opportunities

    -- The same opportunities credited to the SDR (appointer, アポインター) whose lead they came
    -- from: the hand-off count an inside-sales team is measured on.
    union all
    select
        created_date,
        sdr_rep_id,
        lead_source,
        'opportunities_sourced',
        1.0,
        0.0
    from opportunities
    where sdr_rep_id is not null

    union all
    select
        cast(funnel_steps.reached_at as date),
        opportunities.rep_id,
        opportunities.lead_source,
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
        lead_source,
        'deals_won',
        1.0,
        0.0
    from opportunities
    where is_won

    union all
    select
        lost_date,
        rep_id,
        lead_source,
        'deals_lost',
        1.0,
        0.0
    from opportunities
    where is_lost

    union all
    select
        coalesce(won_date, lost_date),
        rep_id,
        lead_source,
        'win_rate',
        case when is_won then 1.0 else 0.0 end,
        1.0
    from opportunities
    where is_closed

    union all
    select
        won_date,
        rep_id,
        lead_source,
        'won_amount',
        cast(amount_reporting as {{ type_double() }}),
        0.0
    from opportunities
    where is_won

    union all
    select
        won_date,
        rep_id,
        lead_source,
        'average_deal_size',
        cast(amount_reporting as {{ type_double() }}),
        1.0
    from opportunities
    where is_won

    union all
    select
        first_wins.won_date,
        first_wins.rep_id,
        first_wins.lead_source,
        'new_customers',
        1.0,
        0.0
    from (
        select
            account_id,
            won_date,
            rep_id,
            lead_source,
            row_number() over (
                partition by account_id order by won_date, opportunity_id
            ) as win_sequence
        from opportunities
        where is_won
    ) as first_wins
    where first_wins.win_sequence = 1

    union all
    select
        activity_date,
        rep_id,
        cast(null as {{ dbt.type_string() }}),
        'activities',
        1.0,
        0.0
    from activities

    union all
    select
        activity_date,
        rep_id,
        cast(null as {{ dbt.type_string() }}),
        'activity_minutes',
        cast(coalesce(duration_minutes, 0) as {{ type_double() }}),
        0.0
    from activities

    union all
    select
        month_start_date,
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        'new_mrr',
        cast(new_mrr as {{ type_double() }}),
        0.0
    from mrr
    where new_mrr > 0

    union all
    select
        month_start_date,
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        'expansion_mrr',
        cast(expansion_mrr as {{ type_double() }}),
        0.0
    from mrr
    where expansion_mrr > 0

    union all
    select
        month_start_date,
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        'lost_mrr',
        cast(churned_mrr + contraction_mrr as {{ type_double() }}),
        0.0
    from mrr
    where churned_mrr + contraction_mrr > 0
),

aggregated as (
    select
        fact_date,
        rep_id,
        lead_source,
        kpi_code,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from facts
    where fact_date is not null and fact_date <= {{ as_of_date() }}
    group by fact_date, rep_id, lead_source, kpi_code
),

-- Each fact counts for the team the rep was in on its date (rep_team_history).
final as (
    select
        aggregated.fact_date,
        coalesce(aggregated.rep_id, 'unassigned') as rep_id,
        coalesce(team_periods.team_id, 'unassigned') as team_id,
        coalesce(reps.rep_role, 'unassigned') as rep_role,
        coalesce(reps.sales_motion, 'unassigned') as sales_motion,
        coalesce(reps.agency_key, 'in_house') as agency_key,
        coalesce(aggregated.lead_source, 'n/a') as lead_source,
        coalesce(lead_sources.channel, 'n/a') as channel,
        aggregated.kpi_code,
        aggregated.numerator,
        aggregated.denominator
    from aggregated
    left join reps
        on aggregated.rep_id = reps.rep_id
    left join team_periods
        on
            aggregated.rep_id = team_periods.rep_id
            and aggregated.fact_date >= team_periods.valid_from_date
            and (team_periods.valid_to_date is null or aggregated.fact_date < team_periods.valid_to_date)
    left join lead_sources
        on aggregated.lead_source = lead_sources.lead_source
)

select * from final
