-- MRR of each customer account at the end of each month, from its first subscription month
-- to the as-of month, in the reporting currency (each item converted at its start date).
-- An item counts in a month when it is active on the month's last day.
with subscriptions as (
    select * from {{ ref('stg_canonical__subscriptions') }}
),

money as (
    select * from {{ ref('int_money_converted') }}
    where record_type = 'subscription_item'
),

account_keys as (
    select * from {{ ref('int_account_keys') }}
),

calendar as (
    select distinct month_start_date from {{ ref('dim_date') }}
),

items as (
    select
        coalesce(account_keys.merged_account_id, subscriptions.account_id) as account_id,
        subscriptions.start_date,
        subscriptions.end_date,
        money.reporting_amount as mrr_amount,
        money.reporting_currency as currency
    from subscriptions
    inner join money
        on subscriptions.subscription_item_id = money.record_id
    left join account_keys
        on subscriptions.account_id = account_keys.account_id
),

account_ranges as (
    select
        account_id,
        currency,
        min(cast({{ dbt.date_trunc('month', 'start_date') }} as date)) as first_month_start_date
    from items
    group by account_id, currency
),

account_months as (
    select
        account_ranges.account_id,
        account_ranges.currency,
        calendar.month_start_date,
        cast({{ dbt.last_day('calendar.month_start_date', 'month') }} as date) as month_end_date
    from account_ranges
    inner join calendar
        on
            account_ranges.first_month_start_date <= calendar.month_start_date
            and calendar.month_start_date <= {{ as_of_date() }}
),

final as (
    select
        account_months.account_id,
        account_months.currency,
        account_months.month_start_date,
        coalesce(sum(items.mrr_amount), 0) as mrr_amount
    from account_months
    left join items
        on
            account_months.account_id = items.account_id
            and account_months.currency = items.currency
            and account_months.month_end_date >= items.start_date
            and (items.end_date is null or account_months.month_end_date <= items.end_date)
    group by
        account_months.account_id,
        account_months.currency,
        account_months.month_start_date
)

select * from final
