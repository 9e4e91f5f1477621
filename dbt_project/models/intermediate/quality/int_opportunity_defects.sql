-- Row-level defects of opportunities (rules in seed data_quality_rules): one row per
-- opportunity and rule broken. A flagged deal stays in the KPIs it does not distort and is
-- left out of the ones it would (kpi_sales_cycle_deals.excluded_reason, e.g. a deal won before
-- its lead was created has no lead-to-won duration).
{%- set text = dbt.type_string() %}
with opportunities as (
    select * from {{ ref('int_opportunities_enriched') }}
),

staged as (
    select * from {{ ref('int_canonical__opportunities') }}
),

leads as (
    select lead_id from {{ ref('int_canonical__leads') }}
),

users as (
    select distinct user_id from {{ ref('int_canonical__users') }}
),

accounts as (
    select account_id from {{ ref('int_canonical__accounts') }}
),

catalog as (
    select product from {{ ref('stg_canonical__products') }}
),

defects as (
    select
        opportunity_id,
        'won_before_lead_created' as rule_code,
        'won_date=' || cast(won_date as {{ text }}) || ', lead ' || lead_id || ' created_at='
        || cast(lead_created_at as {{ text }}) as offending_values
    from opportunities
    where is_won and won_date < cast(lead_created_at as date)
    union all
    select
        opportunity_id,
        'won_before_opportunity_created',
        'won_date=' || cast(won_date as {{ text }}) || ', created_at=' || cast(created_at as {{ text }})
    from opportunities
    where is_won and won_date < created_date
    union all
    select
        opportunity_id,
        'lost_before_opportunity_created',
        'lost_date=' || cast(lost_date as {{ text }}) || ', created_at=' || cast(created_at as {{ text }})
    from opportunities
    where is_lost and lost_date < created_date
    union all
    select
        opportunity_id,
        'opportunity_created_unknown',
        'created_at is empty'
    from opportunities
    where created_at is null
    union all
    select
        opportunity_id,
        'won_date_unknown',
        'is_won=true, close_date is empty, no won stage in the history'
    from opportunities
    where is_won and won_date is null
    union all
    -- Only when leads were exported at all: a deals-only export names leads it does not hold.
    select
        opportunities.opportunity_id,
        'unknown_lead',
        'lead_id=' || opportunities.lead_id
    from opportunities
    where
        opportunities.lead_id is not null
        and opportunities.lead_created_at is null
        and {{ has_rows('leads') }}
        and not exists (select 1 from leads where leads.lead_id = opportunities.lead_id)
    union all
    select
        opportunities.opportunity_id,
        'unknown_owner',
        'owner_id=' || opportunities.rep_id
    from opportunities
    where
        {{ has_rows('users') }}
        and not exists (select 1 from users where users.user_id = opportunities.rep_id)
    union all
    select
        staged.opportunity_id,
        'unknown_account',
        'account_id=' || staged.account_id
    from staged
    where
        staged.account_id is not null
        and {{ has_rows('accounts') }}
        and not exists (select 1 from accounts where accounts.account_id = staged.account_id)
    union all
    -- Only when a product catalog was exported.
    select
        staged.opportunity_id,
        'unknown_product',
        'product=' || staged.product
    from staged
    inner join opportunities
        on staged.opportunity_id = opportunities.opportunity_id
    where
        staged.product is not null
        and not opportunities.is_catalog_product
        and {{ has_rows('catalog') }}
),

final as (
    select
        defects.rule_code,
        'opportunities' as entity,
        defects.opportunity_id as record_id,
        staged.source_system,
        staged.source_file,
        staged.source_row,
        defects.offending_values
    from defects
    inner join staged
        on defects.opportunity_id = staged.opportunity_id
)

select * from final
