with opportunities as (
    select * from {{ ref('int_opportunities_enriched') }}
),

lead_sources as (
    select * from {{ ref('dim_lead_sources') }}
),

final as (
    select
        opportunities.opportunity_id,
        opportunities.source_system,
        opportunities.account_id,
        opportunities.rep_id,
        opportunities.team_id,
        opportunities.lead_id,
        opportunities.sdr_rep_id,
        opportunities.sourced_by,
        opportunities.lead_source,
        lead_sources.channel,
        opportunities.agency_key,
        opportunities.lead_created_at,
        opportunities.created_at,
        opportunities.created_date,
        cast({{ dbt.date_trunc('month', 'opportunities.created_date') }} as date)
            as created_month_start_date,
        opportunities.close_date,
        opportunities.opportunity_stage,
        -- A stage in no stage map (rule unknown_stage in data_quality_issues): 'unmapped'.
        coalesce(opportunities.funnel_step, 'unmapped') as funnel_step,
        opportunities.funnel_step_order,
        opportunities.highest_funnel_step_order,
        opportunities.highest_funnel_step_order >= {{ var('qualified_funnel_step_order') }}
            as is_qualified,
        opportunities.opportunity_type,
        opportunities.product,
        opportunities.is_closed,
        opportunities.is_won,
        opportunities.is_lost,
        opportunities.won_date,
        opportunities.lost_date,
        opportunities.amount,
        opportunities.currency,
        opportunities.amount_reporting,
        opportunities.reporting_currency,
        opportunities.stage_probability,
        cast(
            case
                when not opportunities.is_closed
                    then opportunities.amount_reporting * opportunities.stage_probability
            end as {{ type_money() }}
        ) as weighted_open_amount,
        opportunities.lost_reason
    from opportunities
    left join lead_sources
        on opportunities.lead_source = lead_sources.lead_source
)

select * from final
