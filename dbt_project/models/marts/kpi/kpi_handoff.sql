-- SDR → AE hand-off (分業) by period of opportunity creation × SDR × AE × sourced_by, at every
-- reporting grain (day, ISO week, month, fiscal quarter, fiscal year: int_date_periods).
-- Cohort basis: every count follows the opportunities created in the period (on or before the
-- as-of date) to the as-of date (accepted = reached the qualified step 有効商談 by then, won /
-- closed = won or closed by then). Each opportunity counts once per grain.
-- sdr_rep_id is the owner of the opportunity's source lead (アポインター); 'none' for AE-sourced
-- opportunities (no lead) and 'unassigned' for a lead without an owner. ae_rep_id is the
-- opportunity owner (クローザー), 'unassigned' when none. Rates keep numerator and denominator.
-- SDR appointments (fct_activities) are per SDR, not per SDR × AE, so they are not repeated
-- here: kpi_agency_performance has them per agency.
with opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

date_periods as (
    select * from {{ ref('int_date_periods') }}
),

-- Deals whose dates make the opportunity -> won duration meaningless (data_quality_issues):
-- still counted as won, kept out of the cycle (won_deals_with_cycle).
cycle_defects as (
    select opportunity_id
    from {{ ref('int_opportunity_cycle_exclusions') }}
    where is_opportunity_cycle_defect
),

-- Opportunities that had reached the qualified step (有効商談) by the as-of date.
accepted as (
    select distinct opportunity_id
    from {{ ref('int_opportunity_funnel_steps') }}
    where
        funnel_step_order = {{ var('qualified_funnel_step_order') }}
        and cast(reached_at as date) <= {{ as_of_date() }}
),

-- Outcomes as known on the as-of date.
outcomes as (
    select
        opportunities.*,
        accepted.opportunity_id is not null as is_accepted,
        coalesce(opportunities.is_won and opportunities.won_date <= {{ as_of_date() }}, false)
            as is_won_by_as_of,
        coalesce(
            opportunities.is_closed
            and coalesce(opportunities.won_date, opportunities.lost_date) <= {{ as_of_date() }},
            false
        ) as is_closed_by_as_of,
        cycle_defects.opportunity_id is not null as is_cycle_defect
    from opportunities
    left join accepted
        on opportunities.opportunity_id = accepted.opportunity_id
    left join cycle_defects
        on opportunities.opportunity_id = cycle_defects.opportunity_id
),

deals as (
    select
        date_periods.period_grain,
        date_periods.period_start_date,
        date_periods.period_end_date,
        case
            when opportunities.sourced_by = 'ae' then 'none'
            else coalesce(opportunities.sdr_rep_id, 'unassigned')
        end as sdr_rep_id,
        coalesce(opportunities.rep_id, 'unassigned') as ae_rep_id,
        opportunities.sourced_by,
        opportunities.is_accepted,
        opportunities.is_closed_by_as_of,
        opportunities.is_won_by_as_of,
        case when opportunities.is_won_by_as_of then opportunities.amount_reporting end as won_amount,
        opportunities.reporting_currency,
        case
            when opportunities.is_won_by_as_of and not opportunities.is_cycle_defect
                then {{ dbt.datediff('opportunities.created_date', 'opportunities.won_date', 'day') }}
        end as days_opportunity_to_won
    from outcomes as opportunities
    inner join date_periods
        on opportunities.created_date = date_periods.date_day
    where opportunities.created_date <= {{ as_of_date() }}
),

grouped as (
    select
        period_grain,
        period_start_date,
        period_end_date,
        sdr_rep_id,
        ae_rep_id,
        sourced_by,
        count(*) as opportunities_created,
        sum(case when is_accepted then 1 else 0 end) as opportunities_accepted,
        sum(case when is_won_by_as_of then 1 else 0 end) as won_deals,
        sum(case when is_closed_by_as_of then 1 else 0 end) as closed_deals,
        coalesce(sum(won_amount), 0) as won_amount,
        max(reporting_currency) as currency,
        count(days_opportunity_to_won) as won_deals_with_cycle,
        coalesce(sum(days_opportunity_to_won), 0) as sum_days_opportunity_to_won
    from deals
    group by 1, 2, 3, 4, 5, 6
),

final as (
    select
        {{ dbt.hash(
            "period_grain || '|' || cast(period_start_date as " ~ dbt.type_string() ~ ") || '|' || "
            ~ "sdr_rep_id || '|' || ae_rep_id || '|' || sourced_by"
        ) }} as handoff_id,
        period_grain,
        period_start_date,
        period_end_date,
        sdr_rep_id,
        ae_rep_id,
        sourced_by,
        cast(opportunities_created as bigint) as opportunities_created,
        cast(opportunities_accepted as bigint) as opportunities_accepted,
        -- Hand-off acceptance rate = accepted / created.
        {{ safe_divide('opportunities_accepted', 'opportunities_created') }} as acceptance_rate,
        cast(won_deals as bigint) as won_deals,
        cast(closed_deals as bigint) as closed_deals,
        -- Win rate (受注率) = won / closed.
        {{ safe_divide('won_deals', 'closed_deals') }} as win_rate,
        cast(won_amount as {{ type_money() }}) as won_amount,
        coalesce(currency, '{{ var("reporting_currency") }}') as currency,
        cast(won_deals_with_cycle as bigint) as won_deals_with_cycle,
        cast(sum_days_opportunity_to_won as bigint) as sum_days_opportunity_to_won,
        -- Mean days opportunity → won = sum_days_opportunity_to_won / won_deals_with_cycle.
        {{ safe_divide('sum_days_opportunity_to_won', 'won_deals_with_cycle') }}
            as mean_days_opportunity_to_won
    from grouped
)

select * from final
