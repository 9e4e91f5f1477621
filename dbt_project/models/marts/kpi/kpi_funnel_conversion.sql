-- Funnel conversion (商談化率, ステージ転換率, 受注率) by period × lead source × team × rep, at
-- every reporting grain of int_date_periods: day, ISO week, month, fiscal quarter, fiscal year
-- (period_grain, period_start_date, period_end_date). Only events on or before the as-of date.
-- analysis_basis 'cohort': the denominator is the leads/opportunities created in the period and
--   the numerator those of them that reached the next step by the as-of date.
-- analysis_basis 'period': the denominator counts entries into the from-step during the period,
--   the numerator entries into the to-step during the period.
with leads as (
    select * from {{ ref('fct_leads') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

opportunity_steps as (
    select * from {{ ref('int_opportunity_funnel_steps') }}
),

funnel_steps as (
    select * from {{ ref('funnel_steps') }}
),

periods as (
    {{ reporting_periods() }}
),

step_pairs as (
    select
        from_steps.funnel_step as from_step,
        to_steps.funnel_step as to_step,
        from_steps.funnel_step_order as step_order
    from funnel_steps as from_steps
    inner join funnel_steps as to_steps
        on to_steps.funnel_step_order = from_steps.funnel_step_order + 1
),

-- Each step an opportunity reached, as the from-step of the pair it opens and as the to-step of
-- the pair it closes (two equi-joins on the step, not every opportunity × every pair), then one
-- row per opportunity and pair it reached either step of. Pairs with neither step reached add
-- nothing to any count, so they are not made.
reached_pair_steps as (
    select
        opportunity_steps.opportunity_id,
        step_pairs.from_step,
        step_pairs.to_step,
        step_pairs.step_order,
        opportunity_steps.reached_at as from_reached_at,
        cast(null as {{ dbt.type_timestamp() }}) as to_reached_at,
        cast(null as {{ dbt.type_string() }}) as to_transition_source
    from opportunity_steps
    inner join step_pairs
        on opportunity_steps.funnel_step = step_pairs.from_step
    union all
    select
        opportunity_steps.opportunity_id,
        step_pairs.from_step,
        step_pairs.to_step,
        step_pairs.step_order,
        cast(null as {{ dbt.type_timestamp() }}) as from_reached_at,
        opportunity_steps.reached_at as to_reached_at,
        opportunity_steps.reached_transition_source as to_transition_source
    from opportunity_steps
    inner join step_pairs
        on opportunity_steps.funnel_step = step_pairs.to_step
),

-- int_opportunity_funnel_steps has one row per opportunity and step, so max() picks that row.
reached_pairs as (
    select
        opportunity_id,
        from_step,
        to_step,
        step_order,
        max(from_reached_at) as from_reached_at,
        max(to_reached_at) as to_reached_at,
        max(to_transition_source) as to_transition_source
    from reached_pair_steps
    group by opportunity_id, from_step, to_step, step_order
),

opportunity_pairs as (
    select
        opportunities.opportunity_id,
        opportunities.created_date,
        opportunities.lead_source,
        opportunities.channel,
        opportunities.team_id,
        opportunities.rep_id,
        reached_pairs.from_step,
        reached_pairs.to_step,
        reached_pairs.step_order,
        reached_pairs.from_reached_at,
        reached_pairs.to_reached_at,
        reached_pairs.to_transition_source
    from reached_pairs
    inner join opportunities
        on reached_pairs.opportunity_id = opportunities.opportunity_id
),

-- Whole-funnel step: opportunity created (first step) to won (last step).
opportunity_to_won as (
    select
        opportunities.opportunity_id,
        opportunities.created_date,
        opportunities.lead_source,
        opportunities.channel,
        opportunities.team_id,
        opportunities.rep_id,
        'opportunity' as from_step,
        'won' as to_step,
        90 as step_order,
        opportunities.created_at as from_reached_at,
        case
            when opportunities.is_won then cast(opportunities.won_date as {{ dbt.type_timestamp() }})
        end as to_reached_at,
        'observed' as to_transition_source
    from opportunities
),

lead_pairs as (
    select
        leads.lead_id,
        leads.created_date,
        leads.lead_source,
        leads.channel,
        leads.team_id,
        leads.rep_id,
        'lead' as from_step,
        'opportunity' as to_step,
        0 as step_order,
        leads.created_at as from_reached_at,
        case when leads.is_converted then leads.converted_at end as to_reached_at,
        'observed' as to_transition_source
    from leads
),

all_pairs as (
    select
        created_date,
        lead_source,
        channel,
        team_id,
        rep_id,
        from_step,
        to_step,
        step_order,
        from_reached_at,
        to_reached_at,
        to_transition_source
    from opportunity_pairs
    union all
    select
        created_date,
        lead_source,
        channel,
        team_id,
        rep_id,
        from_step,
        to_step,
        step_order,
        from_reached_at,
        to_reached_at,
        to_transition_source
    from opportunity_to_won
    union all
    select
        created_date,
        lead_source,
        channel,
        team_id,
        rep_id,
        from_step,
        to_step,
        step_order,
        from_reached_at,
        to_reached_at,
        to_transition_source
    from lead_pairs
),

-- Each count summed per day first, then the days rolled up to the five grains: the grains
-- join the day sums, not every pair.
cohort_days as (
    select
        created_date,
        lead_source,
        channel,
        team_id,
        rep_id,
        from_step,
        to_step,
        step_order,
        sum(
            case
                when from_reached_at is not null and to_reached_at is not null
                    and cast(to_reached_at as date) <= {{ as_of_date() }} then 1
                else 0
            end
        ) as numerator_count,
        sum(case when from_reached_at is not null then 1 else 0 end) as denominator_count,
        sum(
            case
                when from_reached_at is not null and to_reached_at is not null
                    and cast(to_reached_at as date) <= {{ as_of_date() }}
                    and to_transition_source <> 'observed' then 1
                else 0
            end
        ) as inferred_numerator_count
    from all_pairs
    group by created_date, lead_source, channel, team_id, rep_id, from_step, to_step, step_order
),

cohort as (
    select
        'cohort' as analysis_basis,
        periods.period_grain,
        periods.period_start_date,
        periods.period_end_date,
        cohort_days.lead_source,
        cohort_days.channel,
        cohort_days.team_id,
        cohort_days.rep_id,
        cohort_days.from_step,
        cohort_days.to_step,
        cohort_days.step_order,
        sum(cohort_days.numerator_count) as numerator_count,
        sum(cohort_days.denominator_count) as denominator_count,
        sum(cohort_days.inferred_numerator_count) as inferred_numerator_count
    from cohort_days
    inner join periods
        on cohort_days.created_date = periods.date_day
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
),

-- One row per step entry: into the from-step (denominator) or into the to-step (numerator).
step_entries as (
    select
        cast(from_reached_at as date) as entry_date,
        lead_source,
        channel,
        team_id,
        rep_id,
        from_step,
        to_step,
        step_order,
        0 as numerator_count,
        1 as denominator_count,
        0 as inferred_numerator_count
    from all_pairs
    where from_reached_at is not null
    union all
    select
        cast(to_reached_at as date) as entry_date,
        lead_source,
        channel,
        team_id,
        rep_id,
        from_step,
        to_step,
        step_order,
        1 as numerator_count,
        0 as denominator_count,
        case when to_transition_source <> 'observed' then 1 else 0 end as inferred_numerator_count
    from all_pairs
    where to_reached_at is not null
),

entry_days as (
    select
        entry_date,
        lead_source,
        channel,
        team_id,
        rep_id,
        from_step,
        to_step,
        step_order,
        sum(numerator_count) as numerator_count,
        sum(denominator_count) as denominator_count,
        sum(inferred_numerator_count) as inferred_numerator_count
    from step_entries
    group by entry_date, lead_source, channel, team_id, rep_id, from_step, to_step, step_order
),

period as (
    select
        'period' as analysis_basis,
        periods.period_grain,
        periods.period_start_date,
        periods.period_end_date,
        entry_days.lead_source,
        entry_days.channel,
        entry_days.team_id,
        entry_days.rep_id,
        entry_days.from_step,
        entry_days.to_step,
        entry_days.step_order,
        sum(entry_days.numerator_count) as numerator_count,
        sum(entry_days.denominator_count) as denominator_count,
        sum(entry_days.inferred_numerator_count) as inferred_numerator_count
    from entry_days
    inner join periods
        on entry_days.entry_date = periods.date_day
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
),

unioned as (
    select * from cohort
    where denominator_count > 0
    union all
    select * from period
),

final as (
    select
        {{ dbt.hash(
            "analysis_basis || '|' || period_grain || '|' || cast(period_start_date as "
            ~ dbt.type_string() ~ ") || '|' || lead_source || '|' || team_id || '|' || rep_id "
            ~ "|| '|' || from_step || '|' || to_step"
        ) }} as funnel_conversion_id,
        analysis_basis,
        period_grain,
        period_start_date,
        period_end_date,
        lead_source,
        coalesce(channel, 'unmapped') as channel,
        team_id,
        rep_id,
        from_step || '_to_' || to_step as conversion_step,
        from_step,
        to_step,
        cast(step_order as integer) as step_order,
        cast(numerator_count as bigint) as numerator_count,
        cast(denominator_count as bigint) as denominator_count,
        cast(inferred_numerator_count as bigint) as inferred_numerator_count,
        {{ safe_divide('numerator_count', 'denominator_count') }} as conversion_rate
    from unioned
)

select * from final
