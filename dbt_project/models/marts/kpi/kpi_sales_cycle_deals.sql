-- Sales cycle length (セールスサイクルの長さ) of every deal won by the as-of date. A deal with a
-- data defect that makes a duration meaningless (won before its lead or before it was created,
-- no created date: data_quality_issues) keeps its row with that duration null and the rules in
-- excluded_reason, so it is counted (kpi_sales_cycle.excluded_deals) but never averaged in.
with opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

cycle_defects as (
    select * from {{ ref('int_opportunity_cycle_exclusions') }}
),

final as (
    select
        opportunities.opportunity_id,
        opportunities.won_date,
        cast({{ dbt.date_trunc('month', 'opportunities.won_date') }} as date) as won_month_start_date,
        opportunities.created_date,
        cast(opportunities.lead_created_at as date) as lead_created_date,
        case
            when not coalesce(cycle_defects.is_opportunity_cycle_defect, false)
                then cast({{ dbt.datediff('opportunities.created_date', 'opportunities.won_date', 'day') }} as integer)  -- noqa: LT05
        end as days_opportunity_to_won,
        case
            when not coalesce(cycle_defects.is_lead_cycle_defect, false)
                then cast({{ dbt.datediff('cast(opportunities.lead_created_at as date)', 'opportunities.won_date', 'day') }} as integer)  -- noqa: LT05
        end as days_lead_to_won,
        cycle_defects.excluded_reason,
        opportunities.rep_id,
        opportunities.team_id,
        opportunities.lead_source,
        coalesce(opportunities.channel, 'unmapped') as channel,
        opportunities.agency_key,
        opportunities.sourced_by,
        opportunities.opportunity_type,
        cast(opportunities.amount_reporting as {{ type_money() }}) as amount,
        opportunities.reporting_currency as currency
    from opportunities
    left join cycle_defects
        on opportunities.opportunity_id = cycle_defects.opportunity_id
    where opportunities.is_won and opportunities.won_date <= {{ as_of_date() }}
)

select * from final
