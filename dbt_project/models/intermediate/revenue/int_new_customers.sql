-- New customers (新規顧客): one row per account acquired by the as-of date, the one place the
-- rule is written down (kpi_cac, the scorecard KPI new_customers and dim_accounts read it).
-- An account becomes a customer
--   1. on the won date of its first won NEW-BUSINESS deal (opportunity_type 'new'); two such
--      deals won the same day: the lowest opportunity_id (acquisition_basis 'new_business_deal');
--   2. else, when it has subscriptions, on the start date of its first paying subscription item
--      (mrr_amount > 0; same start date: the lowest subscription_item_id): an existing
--      subscriber whose deals in the export are only renewals or expansions
--      (acquisition_basis 'first_subscription').
-- Renewals and expansions never make an account new; an account with neither a won new deal
-- nor a subscription is not a new customer at all. Only deals won, subscriptions started and
-- leads created on or before the as-of date are known, so a past as-of date gives the answer of
-- that day (a new deal won later may move the acquisition from the subscription to the deal).
-- Attribution (channel 経路, agency 営業代行, lead source, rep, product): a deal-based customer
-- takes those of the deal, as every other deal KPI does (the deal's lead, else ae_sourced and the
-- owner's agency or in_house). A subscription-based customer has no deal: it takes the lead
-- source, channel, agency and owner of the account's earliest lead (by created_at, then lead_id),
-- else lead source ae_sourced (channel field_sales) and agency in_house with no rep, as an
-- AE-sourced deal without an agency; its product is that of the first subscription item.
with opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

leads as (
    select * from {{ ref('fct_leads') }}
),

subscriptions as (
    select * from {{ ref('stg_canonical__subscriptions') }}
),

account_keys as (
    select * from {{ ref('int_account_keys') }}
),

lead_sources as (
    select * from {{ ref('dim_lead_sources') }}
),

new_business_wins as (
    select
        account_id,
        opportunity_id,
        won_date,
        rep_id,
        lead_source,
        channel,
        agency_key,
        product,
        row_number() over (
            partition by account_id order by won_date, opportunity_id
        ) as win_sequence
    from opportunities
    where
        is_won
        and opportunity_type = 'new'
        and account_id is not null
        and won_date <= {{ as_of_date() }}
),

first_subscriptions as (
    select
        account_id,
        subscription_item_id,
        start_date,
        product
    from (
        select
            coalesce(account_keys.merged_account_id, subscriptions.account_id) as account_id,
            subscriptions.subscription_item_id,
            subscriptions.start_date,
            subscriptions.product,
            row_number() over (
                partition by coalesce(account_keys.merged_account_id, subscriptions.account_id)
                order by subscriptions.start_date, subscriptions.subscription_item_id
            ) as item_sequence
        from subscriptions
        left join account_keys
            on subscriptions.account_id = account_keys.account_id
        where
            subscriptions.mrr_amount > 0
            and subscriptions.account_id is not null
            and subscriptions.start_date <= {{ as_of_date() }}
    ) as items
    where item_sequence = 1
),

first_leads as (
    select
        account_id,
        rep_id,
        lead_source,
        channel,
        agency_key
    from (
        select
            account_id,
            rep_id,
            lead_source,
            channel,
            agency_key,
            row_number() over (partition by account_id order by created_at, lead_id) as lead_sequence
        from leads
        where account_id is not null and created_date <= {{ as_of_date() }}
    ) as ranked
    where lead_sequence = 1
),

by_deal as (
    select
        account_id,
        won_date as acquired_date,
        'new_business_deal' as acquisition_basis,
        opportunity_id,
        cast(null as {{ dbt.type_string() }}) as subscription_item_id,
        rep_id,
        lead_source,
        channel,
        agency_key,
        product
    from new_business_wins
    where win_sequence = 1
),

by_subscription as (
    select
        first_subscriptions.account_id,
        first_subscriptions.start_date as acquired_date,
        'first_subscription' as acquisition_basis,
        cast(null as {{ dbt.type_string() }}) as opportunity_id,
        first_subscriptions.subscription_item_id,
        first_leads.rep_id,
        coalesce(first_leads.lead_source, 'ae_sourced') as lead_source,
        case
            when first_leads.account_id is not null then first_leads.channel
            else ae_sourced.channel
        end as channel,
        coalesce(first_leads.agency_key, 'in_house') as agency_key,
        coalesce(first_subscriptions.product, 'unspecified') as product
    from first_subscriptions
    left join first_leads
        on first_subscriptions.account_id = first_leads.account_id
    left join lead_sources as ae_sourced
        on ae_sourced.lead_source = 'ae_sourced'
    where
        not exists (
            select 1
            from by_deal
            where by_deal.account_id = first_subscriptions.account_id
        )
),

final as (
    select * from by_deal
    union all
    select * from by_subscription
)

select * from final
