-- Customer engagement by month × scope: repeat rate (リピート率), usage frequency and volume
-- (利用頻度・分量) from orders, and customer satisfaction (顧客満足度) from survey answers.
-- Scope: 'company' (scope_id 'company') and 'industry' (account segment from dim_accounts;
-- 'unknown' when the account has none). Accounts are merged (int_account_keys) before counting.
-- Orders and answers dated after the as-of date are left out; months run from the scope's
-- first order or answer to the as-of month. Money is in the reporting currency, converted at
-- the order date (int_money_converted). Every rate keeps its numerator and denominator.
-- Empty when no orders and no survey answers were supplied (both entities are optional).
with account_keys as (
    select * from {{ ref('int_account_keys') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

money as (
    select * from {{ ref('int_money_converted') }}
    where record_type = 'order'
),

calendar_months as (
    select distinct month_start_date
    from {{ ref('dim_date') }}
    where month_start_date <= cast({{ dbt.date_trunc('month', as_of_date()) }} as date)
),

orders as (
    select
        coalesce(account_keys.merged_account_id, order_rows.account_id) as account_id,
        cast({{ dbt.date_trunc('month', 'order_rows.ordered_date') }} as date) as month_start_date,
        money.reporting_amount,
        coalesce(order_rows.quantity, 0) as quantity
    from {{ ref('stg_canonical__orders') }} as order_rows
    left join account_keys
        on order_rows.account_id = account_keys.account_id
    left join money
        on order_rows.order_id = money.record_id
    where order_rows.ordered_date <= {{ as_of_date() }}
),

surveys as (
    select
        coalesce(account_keys.merged_account_id, answers.account_id) as account_id,
        cast({{ dbt.date_trunc('month', 'answers.responded_date') }} as date) as month_start_date,
        answers.score,
        case
            when answers.max_score > 0
                then cast(answers.score as {{ type_double() }}) / answers.max_score
        end as normalised_score
    from {{ ref('stg_canonical__satisfaction_surveys') }} as answers
    left join account_keys
        on answers.account_id = account_keys.account_id
    where answers.responded_date <= {{ as_of_date() }}
),

scoped_orders as (
    select
        'company' as scope_type,
        'company' as scope_id,
        orders.*
    from orders
    union all
    select
        'industry' as scope_type,
        coalesce(accounts.industry, 'unknown') as scope_id,
        orders.*
    from orders
    left join accounts
        on orders.account_id = accounts.account_id
),

scoped_surveys as (
    select
        'company' as scope_type,
        'company' as scope_id,
        surveys.*
    from surveys
    union all
    select
        'industry' as scope_type,
        coalesce(accounts.industry, 'unknown') as scope_id,
        surveys.*
    from surveys
    left join accounts
        on surveys.account_id = accounts.account_id
),

-- One row per scope × account × month with orders, with the account's orders to date.
account_months as (
    select
        scope_type,
        scope_id,
        account_id,
        month_start_date,
        count(*) as orders,
        sum(reporting_amount) as order_amount,
        sum(quantity) as quantity
    from scoped_orders
    group by 1, 2, 3, 4
),

account_months_to_date as (
    select
        account_months.*,
        sum(account_months.orders) over (
            partition by
                account_months.scope_type, account_months.scope_id, account_months.account_id
            order by account_months.month_start_date
            rows between unbounded preceding and current row
        ) as orders_to_date
    from account_months
),

-- First order month and the month of the second order (became a repeat customer).
account_milestones as (
    select
        scope_type,
        scope_id,
        account_id,
        min(month_start_date) as first_order_month_start_date,
        min(case when orders_to_date >= 2 then month_start_date end) as repeat_month_start_date
    from account_months_to_date
    group by 1, 2, 3
),

scope_starts as (
    select
        scope_type,
        scope_id,
        min(month_start_date) as first_month_start_date
    from (
        select
            scope_type,
            scope_id,
            month_start_date
        from scoped_orders
        union all
        select
            scope_type,
            scope_id,
            month_start_date
        from scoped_surveys
    ) as activity
    group by 1, 2
),

scope_months as (
    select
        scope_starts.scope_type,
        scope_starts.scope_id,
        calendar_months.month_start_date
    from scope_starts
    inner join calendar_months
        on scope_starts.first_month_start_date <= calendar_months.month_start_date
),

monthly_orders as (
    select
        scope_type,
        scope_id,
        month_start_date,
        count(*) as ordering_customers,
        sum(case when orders_to_date >= 2 then 1 else 0 end) as repeat_customers,
        sum(orders) as orders,
        sum(order_amount) as order_amount,
        sum(quantity) as quantity
    from account_months_to_date
    group by 1, 2, 3
),

customers_to_date as (
    select
        scope_months.scope_type,
        scope_months.scope_id,
        scope_months.month_start_date,
        count(*) as customers_with_orders_to_date,
        sum(
            case
                when
                    account_milestones.repeat_month_start_date
                    <= scope_months.month_start_date
                    then 1
                else 0
            end
        ) as repeat_customers_to_date
    from scope_months
    inner join account_milestones
        on
            scope_months.scope_type = account_milestones.scope_type
            and scope_months.scope_id = account_milestones.scope_id
            and scope_months.month_start_date
            >= account_milestones.first_order_month_start_date
    group by 1, 2, 3
),

monthly_surveys as (
    select
        scope_type,
        scope_id,
        month_start_date,
        count(*) as survey_responses,
        sum(score) as score_sum,
        count(normalised_score) as normalised_responses,
        sum(normalised_score) as normalised_score_sum
    from scoped_surveys
    group by 1, 2, 3
),

joined as (
    select
        scope_months.month_start_date,
        scope_months.scope_type,
        scope_months.scope_id,
        coalesce(monthly_orders.ordering_customers, 0) as ordering_customers,
        coalesce(monthly_orders.repeat_customers, 0) as repeat_customers,
        coalesce(customers_to_date.customers_with_orders_to_date, 0)
            as customers_with_orders_to_date,
        coalesce(customers_to_date.repeat_customers_to_date, 0) as repeat_customers_to_date,
        coalesce(monthly_orders.orders, 0) as orders,
        coalesce(monthly_orders.order_amount, 0) as order_amount,
        coalesce(monthly_orders.quantity, 0) as quantity,
        coalesce(monthly_surveys.survey_responses, 0) as survey_responses,
        coalesce(monthly_surveys.score_sum, 0) as score_sum,
        coalesce(monthly_surveys.normalised_responses, 0) as normalised_responses,
        coalesce(monthly_surveys.normalised_score_sum, 0) as normalised_score_sum
    from scope_months
    left join monthly_orders
        on
            scope_months.scope_type = monthly_orders.scope_type
            and scope_months.scope_id = monthly_orders.scope_id
            and scope_months.month_start_date = monthly_orders.month_start_date
    left join customers_to_date
        on
            scope_months.scope_type = customers_to_date.scope_type
            and scope_months.scope_id = customers_to_date.scope_id
            and scope_months.month_start_date = customers_to_date.month_start_date
    left join monthly_surveys
        on
            scope_months.scope_type = monthly_surveys.scope_type
            and scope_months.scope_id = monthly_surveys.scope_id
            and scope_months.month_start_date = monthly_surveys.month_start_date
),

final as (
    select
        {{ dbt.hash(
            "cast(month_start_date as " ~ dbt.type_string() ~ ") || '|' || scope_type || '|' || "
            ~ "scope_id"
        ) }} as engagement_id,
        month_start_date,
        scope_type,
        scope_id,
        cast(ordering_customers as bigint) as ordering_customers,
        cast(repeat_customers as bigint) as repeat_customers,
        cast(customers_with_orders_to_date as bigint) as customers_with_orders_to_date,
        -- Repeat rate (リピート率) = repeat_customers / customers_with_orders_to_date.
        {{ safe_divide('repeat_customers', 'customers_with_orders_to_date') }} as repeat_rate,
        cast(repeat_customers_to_date as bigint) as repeat_customers_to_date,
        -- Cumulative repeat rate = repeat_customers_to_date / customers_with_orders_to_date.
        {{ safe_divide('repeat_customers_to_date', 'customers_with_orders_to_date') }}
            as cumulative_repeat_rate,
        cast(orders as bigint) as orders,
        cast(order_amount as decimal(18, 2)) as order_amount,
        '{{ var("reporting_currency") }}' as currency,
        cast(quantity as decimal(18, 2)) as quantity,
        -- Usage frequency (利用頻度) = orders / ordering_customers.
        {{ safe_divide('orders', 'ordering_customers') }} as usage_frequency,
        -- Usage volume (分量) = quantity / ordering_customers.
        {{ safe_divide('quantity', 'ordering_customers') }} as usage_volume,
        cast(survey_responses as bigint) as survey_responses,
        cast(score_sum as decimal(18, 2)) as score_sum,
        -- Customer satisfaction (顧客満足度) = score_sum / survey_responses.
        {{ safe_divide('score_sum', 'survey_responses') }} as mean_score,
        cast(normalised_responses as bigint) as normalised_responses,
        cast(normalised_score_sum as {{ type_double() }}) as normalised_score_sum,
        -- Mean normalised score (0-1) = normalised_score_sum / normalised_responses.
        {{ safe_divide('normalised_score_sum', 'normalised_responses') }} as mean_normalised_score
    from joined
)

select * from final
