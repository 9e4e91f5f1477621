-- Row-level defects of leads: the lead -> opportunity link is known from either side (the
-- lead's converted opportunity id or the opportunity's lead id); a disagreement between the
-- two, or a link to an opportunity that was not exported, is reported here.
with leads as (
    select * from {{ ref('int_canonical__leads') }}
),

opportunities as (
    select
        opportunity_id,
        lead_id
    from {{ ref('int_canonical__opportunities') }}
),

users as (
    select distinct user_id from {{ ref('int_canonical__users') }}
),

defects as (
    select
        leads.lead_id,
        'lead_link_conflict' as rule_code,
        'converted_opportunity_id=' || leads.converted_opportunity_id
        || ', whose lead_id=' || opportunities.lead_id as offending_values
    from leads
    inner join opportunities
        on leads.converted_opportunity_id = opportunities.opportunity_id
    where opportunities.lead_id is not null and opportunities.lead_id <> leads.lead_id
    union all
    select
        leads.lead_id,
        'unknown_converted_opportunity',
        'converted_opportunity_id=' || leads.converted_opportunity_id
    from leads
    where
        leads.converted_opportunity_id is not null
        and {{ has_rows('opportunities') }}
        and not exists (
            select 1 from opportunities
            where opportunities.opportunity_id = leads.converted_opportunity_id
        )
    union all
    select
        leads.lead_id,
        'unknown_owner',
        'owner_id=' || leads.owner_id
    from leads
    where
        leads.owner_id is not null
        and {{ has_rows('users') }}
        and not exists (select 1 from users where users.user_id = leads.owner_id)
),

final as (
    select
        defects.rule_code,
        'leads' as entity,
        defects.lead_id as record_id,
        leads.source_system,
        leads.source_file,
        leads.source_row,
        defects.offending_values
    from defects
    inner join leads
        on defects.lead_id = leads.lead_id
)

select * from final
