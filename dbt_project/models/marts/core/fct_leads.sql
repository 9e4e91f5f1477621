with leads as (
    select * from {{ ref('int_canonical__leads') }}
),

reps as (
    select * from {{ ref('int_canonical__users') }}
),

account_keys as (
    select * from {{ ref('int_account_keys') }}
),

lead_sources as (
    select * from {{ ref('dim_lead_sources') }}
),

opportunities as (
    select * from {{ ref('int_canonical__opportunities') }}
),

-- A lead is converted when it names its opportunity or an opportunity names it (links on
-- either side of the export). When both sides disagree the opportunity's own lead id wins and
-- the lead is reported (data_quality_issues, rule lead_link_conflict).
linked_opportunities as (
    select
        lead_id,
        min(opportunity_id) as opportunity_id,
        min(created_at) as opportunity_created_at
    from opportunities
    where lead_id is not null
    group by lead_id
),

named_opportunities as (
    select
        leads.lead_id,
        opportunities.opportunity_id,
        opportunities.created_at as opportunity_created_at
    from leads
    inner join opportunities
        on leads.converted_opportunity_id = opportunities.opportunity_id
    where opportunities.lead_id is null or opportunities.lead_id = leads.lead_id
),

links as (
    select
        leads.lead_id,
        coalesce(linked_opportunities.opportunity_id, named_opportunities.opportunity_id,
            case when not exists (
                select 1 from opportunities
                where opportunities.opportunity_id = leads.converted_opportunity_id
            ) then leads.converted_opportunity_id end
        ) as opportunity_id,
        coalesce(
            leads.converted_at,
            linked_opportunities.opportunity_created_at,
            named_opportunities.opportunity_created_at
        ) as converted_at
    from leads
    left join linked_opportunities
        on leads.lead_id = linked_opportunities.lead_id
    left join named_opportunities
        on leads.lead_id = named_opportunities.lead_id
),

final as (
    select
        leads.lead_id,
        leads.source_system,
        leads.created_at,
        cast(leads.created_at as date) as created_date,
        cast({{ dbt.date_trunc('month', 'leads.created_at') }} as date) as created_month_start_date,
        leads.lead_source,
        lead_sources.channel,
        coalesce(leads.owner_id, 'unassigned') as rep_id,
        coalesce(reps.team_id, 'unassigned') as team_id,
        coalesce(leads.agency_id, reps.agency_id, 'in_house') as agency_key,
        coalesce(account_keys.merged_account_id, leads.account_id) as account_id,
        coalesce(
            leads.lead_status,
            case when links.opportunity_id is not null then 'converted' else 'open' end
        ) as lead_status,
        links.opportunity_id as converted_opportunity_id,
        links.converted_at,
        links.opportunity_id is not null as is_converted
    from leads
    left join reps
        on leads.owner_id = reps.user_id
    left join account_keys
        on leads.account_id = account_keys.account_id
    left join lead_sources
        on leads.lead_source = lead_sources.lead_source
    left join links
        on leads.lead_id = links.lead_id
)

select * from final
