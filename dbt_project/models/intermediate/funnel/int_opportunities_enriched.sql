-- Opportunities with their source lead, owner's team, funnel position and close dates.
with opportunities as (
    select * from {{ ref('int_canonical__opportunities') }}
),

leads as (
    select * from {{ ref('int_canonical__leads') }}
),

reps as (
    select * from {{ ref('int_canonical__users') }}
),

account_keys as (
    select * from {{ ref('int_account_keys') }}
),

stage_lookup as (
    select * from {{ ref('int_stage_map_resolved') }}
),

money as (
    select * from {{ ref('int_money_converted') }}
    where record_type = 'opportunity'
),

stages as (
    select * from {{ ref('int_opportunity_stages_mapped') }}
),

subscriptions as (
    select * from {{ ref('stg_canonical__subscriptions') }}
),

-- The product catalog (optional): a deal's product is matched leniently to it (GTXPro = GTX Pro)
-- and reported under the catalog's spelling; data_quality_issues flags the ones it cannot match.
catalog as (
    select * from {{ ref('stg_canonical__products') }}
),

-- The product of the first subscription item a deal created: the product of a deal whose
-- export has no product column.
subscription_products as (
    select
        opportunity_id,
        product
    from (
        select
            opportunity_id,
            product,
            row_number() over (
                partition by opportunity_id order by start_date, subscription_item_id
            ) as item_position
        from subscriptions
        where opportunity_id is not null and product is not null
    ) as items
    where item_position = 1
),

stage_summary as (
    select
        opportunity_id,
        max(funnel_step_order) as highest_funnel_step_order,
        -- An 'inferred' entry (no history: the first stage seen is dated at creation) says
        -- nothing about when a deal first seen closed was won or lost: without a close date
        -- its won/lost date is unknown (rule won_date_unknown), never its created date.
        min(
            case when is_won_stage and transition_source <> 'inferred' then stage_entered_at end
        ) as won_at,
        min(
            case when is_lost_stage and transition_source <> 'inferred' then stage_entered_at end
        ) as lost_at
    from stages
    group by opportunity_id
),

-- A lead linked either way round: opportunity.lead_id or lead.converted_opportunity_id
-- (when several leads name the same opportunity, the earliest created one is its source).
converted_leads as (
    select
        ranked.converted_opportunity_id,
        ranked.lead_id
    from (
        select
            leads.converted_opportunity_id,
            leads.lead_id,
            row_number() over (
                partition by leads.converted_opportunity_id
                order by leads.created_at, leads.lead_id
            ) as lead_rank
        from leads
        where leads.converted_opportunity_id is not null
    ) as ranked
    where ranked.lead_rank = 1
),

lead_links as (
    select
        opportunities.opportunity_id,
        coalesce(opportunities.lead_id, converted_leads.lead_id) as lead_id
    from opportunities
    left join converted_leads
        on opportunities.opportunity_id = converted_leads.converted_opportunity_id
),

final as (
    select
        opportunities.opportunity_id,
        opportunities.source_system,
        coalesce(account_keys.merged_account_id, opportunities.account_id) as account_id,
        opportunities.owner_id as rep_id,
        coalesce(reps.team_id, 'unassigned') as team_id,
        lead_links.lead_id,
        -- The SDR named on the deal, else the owner of its lead (the appointer who sourced it).
        coalesce(opportunities.sdr_id, leads.owner_id) as sdr_rep_id,
        coalesce(leads.lead_source, 'ae_sourced') as lead_source,
        coalesce(leads.agency_id, reps.agency_id, 'in_house') as agency_key,
        case
            when lead_links.lead_id is null and opportunities.sdr_id is null then 'ae' else 'sdr'
        end as sourced_by,
        leads.created_at as lead_created_at,
        opportunities.created_at,
        cast(opportunities.created_at as date) as created_date,
        opportunities.close_date,
        opportunities.opportunity_stage,
        stage_lookup.funnel_step,
        stage_lookup.funnel_step_order,
        coalesce(stage_summary.highest_funnel_step_order, stage_lookup.funnel_step_order)
            as highest_funnel_step_order,
        opportunities.opportunity_type,
        coalesce(
            catalog.product, opportunities.product, subscription_products.product, 'unspecified'
        ) as product,
        catalog.product is not null as is_catalog_product,
        opportunities.is_closed,
        opportunities.is_won,
        opportunities.is_closed and not opportunities.is_won as is_lost,
        case
            when opportunities.is_won
                then coalesce(opportunities.close_date, cast(stage_summary.won_at as date))
        end as won_date,
        case
            when opportunities.is_closed and not opportunities.is_won
                then coalesce(opportunities.close_date, cast(stage_summary.lost_at as date))
        end as lost_date,
        opportunities.amount,
        opportunities.currency,
        money.reporting_amount as amount_reporting,
        money.reporting_currency,
        coalesce(stage_lookup.default_probability, 0) as stage_probability,
        opportunities.lost_reason
    from opportunities
    left join lead_links
        on opportunities.opportunity_id = lead_links.opportunity_id
    left join leads
        on lead_links.lead_id = leads.lead_id
    left join reps
        on opportunities.owner_id = reps.user_id
    left join account_keys
        on opportunities.account_id = account_keys.account_id
    left join stage_lookup
        on
            opportunities.source_system = stage_lookup.source_system
            and opportunities.opportunity_stage = stage_lookup.opportunity_stage
    left join money
        on opportunities.opportunity_id = money.record_id
    left join stage_summary
        on opportunities.opportunity_id = stage_summary.opportunity_id
    left join subscription_products
        on opportunities.opportunity_id = subscription_products.opportunity_id
    left join catalog
        on {{ product_match_key('opportunities.product') }} = catalog.product_match_key
)

select * from final
