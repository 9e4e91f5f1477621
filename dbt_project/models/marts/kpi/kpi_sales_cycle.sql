-- Sales cycle length aggregated by won period × team × lead source at every reporting grain of
-- int_date_periods (day, ISO week, month, fiscal quarter, fiscal year; deals won by the as-of
-- date), with roll-ups: grouping_level 'team_source' (both), 'team' (all sources),
-- 'source' (all teams), 'total' (all teams and sources); a rolled-up dimension holds '(all)'.
-- Percentiles are continuous (interpolated) over the deals of the period and cannot be
-- re-aggregated across periods or groups: use the grain and the roll-ups.
with deals as (
    select * from {{ ref('kpi_sales_cycle_deals') }}
),

periods as (
    {{ reporting_periods() }}
),

deal_periods as (
    select
        periods.period_grain,
        periods.period_start_date,
        periods.period_end_date,
        deals.team_id,
        deals.lead_source,
        deals.days_opportunity_to_won,
        deals.days_lead_to_won,
        deals.excluded_reason
    from deals
    inner join periods
        on deals.won_date = periods.date_day
),

grouped as (
    select
        period_grain,
        period_start_date,
        period_end_date,
        team_id,
        lead_source,
        count(*) as won_deals,
        count(days_lead_to_won) as won_deals_with_lead,
        count(excluded_reason) as excluded_deals,
        sum(days_opportunity_to_won) as sum_days_opportunity_to_won,
        avg(days_opportunity_to_won) as mean_days_opportunity_to_won,
        {{ percentile_cont('days_opportunity_to_won', 0.5) }} as median_days_opportunity_to_won,
        {{ percentile_cont('days_opportunity_to_won', 0.75) }} as p75_days_opportunity_to_won,
        {{ percentile_cont('days_opportunity_to_won', 0.9) }} as p90_days_opportunity_to_won,
        avg(days_lead_to_won) as mean_days_lead_to_won,
        {{ percentile_cont('days_lead_to_won', 0.5) }} as median_days_lead_to_won,
        {{ percentile_cont('days_lead_to_won', 0.75) }} as p75_days_lead_to_won,
        {{ percentile_cont('days_lead_to_won', 0.9) }} as p90_days_lead_to_won,
        grouping(team_id) as is_all_teams,
        grouping(lead_source) as is_all_sources
    from deal_periods
    group by grouping sets (  -- noqa: PRS
        (period_grain, period_start_date, period_end_date, team_id, lead_source),
        (period_grain, period_start_date, period_end_date, team_id),
        (period_grain, period_start_date, period_end_date, lead_source),
        (period_grain, period_start_date, period_end_date)
    )
),

final as (
    select
        {{ dbt.hash(
            "period_grain || '|' || cast(period_start_date as " ~ dbt.type_string() ~ ") || '|' || "
            ~ "coalesce(team_id, '(all)') || '|' || coalesce(lead_source, '(all)')"
        ) }} as sales_cycle_id,
        period_grain,
        period_start_date,
        period_end_date,
        case
            when is_all_teams = 1 and is_all_sources = 1 then 'total'
            when is_all_teams = 1 then 'source'
            when is_all_sources = 1 then 'team'
            else 'team_source'
        end as grouping_level,
        coalesce(team_id, '(all)') as team_id,
        coalesce(lead_source, '(all)') as lead_source,
        cast(won_deals as bigint) as won_deals,
        cast(won_deals_with_lead as bigint) as won_deals_with_lead,
        cast(excluded_deals as bigint) as excluded_deals,
        cast(sum_days_opportunity_to_won as bigint) as sum_days_opportunity_to_won,
        cast(mean_days_opportunity_to_won as {{ type_double() }}) as mean_days_opportunity_to_won,
        cast(median_days_opportunity_to_won as {{ type_double() }}) as median_days_opportunity_to_won,
        cast(p75_days_opportunity_to_won as {{ type_double() }}) as p75_days_opportunity_to_won,
        cast(p90_days_opportunity_to_won as {{ type_double() }}) as p90_days_opportunity_to_won,
        cast(mean_days_lead_to_won as {{ type_double() }}) as mean_days_lead_to_won,
        cast(median_days_lead_to_won as {{ type_double() }}) as median_days_lead_to_won,
        cast(p75_days_lead_to_won as {{ type_double() }}) as p75_days_lead_to_won,
        cast(p90_days_lead_to_won as {{ type_double() }}) as p90_days_lead_to_won
    from grouped
)

select * from final
