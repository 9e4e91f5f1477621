-- Every amount of the exports with its rate to the reporting currency (dbt var
-- reporting_currency, JPY by default), taken on a fixed date per record:
--   opportunities at the close date (expected close date while open), subscription items at
--   their start date (constant-currency MRR), spend at its month, orders at their order date.
with opportunities as (
    select
        opportunity_id as record_id,
        'opportunity' as record_type,
        currency,
        amount,
        coalesce(close_date, cast(created_at as date)) as rate_date
    from {{ ref('int_canonical__opportunities') }}
),

subscriptions as (
    select
        subscription_item_id as record_id,
        'subscription_item' as record_type,
        currency,
        mrr_amount as amount,
        start_date as rate_date
    from {{ ref('stg_canonical__subscriptions') }}
),

spend as (
    select
        {{ spend_record_id('spend_rows') }} as record_id,
        'spend' as record_type,
        spend_rows.currency,
        spend_rows.spend_amount as amount,
        spend_rows.spend_month_start_date as rate_date
    from {{ ref('stg_canonical__spend') }} as spend_rows
),

orders as (
    select
        order_id as record_id,
        'order' as record_type,
        currency,
        order_amount as amount,
        ordered_date as rate_date
    from {{ ref('stg_canonical__orders') }}
),

records as (
    select * from opportunities
    union all
    select * from subscriptions
    union all
    select * from spend
    union all
    select * from orders
),

keyed as (
    select
        records.*,
        records.record_type || ':' || records.record_id as money_key
    from records
),

rates as (
    {{ reporting_rates('keyed', 'money_key', 'currency', 'rate_date') }}
),

final as (
    select
        keyed.money_key,
        keyed.record_type,
        keyed.record_id,
        keyed.currency,
        keyed.amount,
        keyed.rate_date,
        rates.reporting_rate,
        cast(keyed.amount * rates.reporting_rate as decimal(18, 2)) as reporting_amount,
        '{{ var("reporting_currency") }}' as reporting_currency
    from keyed
    left join rates
        on keyed.money_key = rates.money_key
)

select * from final
