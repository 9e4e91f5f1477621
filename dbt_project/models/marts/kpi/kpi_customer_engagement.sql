-- Customer engagement by period × scope: repeat rate (リピート率), usage frequency and volume
-- (利用頻度・分量) from orders, and customer satisfaction (顧客満足度) from survey answers, at every
-- reporting grain (day, ISO week, month, fiscal quarter, fiscal year: int_date_periods), orders
-- and answers being dated. Every count is recomputed for each period from the orders and answers
-- (a quarter's ordering customers are the accounts with an order in the quarter, not a sum of
-- months), so filter on period_grain before summing.
-- Scope: 'company' (scope_id 'company') and 'industry' (account segment from dim_accounts;
-- 'unknown' when the account has none). Accounts are merged (int_account_keys) before counting.
-- Orders and answers dated after the as-of date are left out; periods run, per grain, from the
-- one holding the scope's first order or answer to the one holding the as-of date. Money is in
-- the reporting currency, converted at the order date (int_money_converted). Every rate keeps
-- its numerator and denominator.
-- Empty when no orders and no survey answers were supplied (both entities are optional).
{%- set period_key = ['scope_type', 'scope_id', 'period_grain', 'period_start_date'] %}
with account_keys as (
    select * from {{ ref('int_account_keys') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

date_periods as (
    select * from {{ ref('int_date_periods') }}
),

-- The periods that have started by the as-of date.
periods as (
    select distinct
        period_grain,
        period_start_date,
        period_end_date
    from date_periods
    where period_start_date <= {{ as_of_date() }}
),

orders as (
    select
        account_id,
        ordered_date,
        reporting_amount,
        quantity
    from {{ ref('int_orders_converted') }}
    where ordered_date <= {{ as_of_date() }}
),

surveys as (
    select
        coalesce(account_keys.merged_account_id, answers.account_id) as account_id,
        answers.responded_date,
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

-- Per scope × account: the date of its first order and of its second (it became a repeat
-- customer then).
account_order_numbers as (
    select
        scope_type,
        scope_id,
        account_id,
        ordered_date,
        row_number() over (
            partition by scope_type, scope_id, account_id
            order by ordered_date
        ) as order_number
    from scoped_orders
),

account_milestones as (
    select
        scope_type,
        scope_id,
        account_id,
        min(ordered_date) as first_order_date,
        min(case when order_number = 2 then ordered_date end) as repeat_date
    from account_order_numbers
    group by 1, 2, 3
),

scope_starts as (
    select
        scope_type,
        scope_id,
        min(activity_date) as first_activity_date
    from (
        select
            scope_type,
            scope_id,
            ordered_date as activity_date
        from scoped_orders
        union all
        select
            scope_type,
            scope_id,
            responded_date as activity_date
        from scoped_surveys
    ) as activity
    group by 1, 2
),

-- Every started period of every grain from the one holding the scope's first activity.
scope_periods as (
    select
        scope_starts.scope_type,
        scope_starts.scope_id,
        periods.period_grain,
        periods.period_start_date,
        periods.period_end_date
    from scope_starts
    inner join periods
        on scope_starts.first_activity_date <= periods.period_end_date
),

-- One row per scope × account × period with orders.
account_periods as (
    select
        scoped_orders.scope_type,
        scoped_orders.scope_id,
        scoped_orders.account_id,
        date_periods.period_grain,
        date_periods.period_start_date,
        date_periods.period_end_date,
        count(*) as orders,
        sum(scoped_orders.reporting_amount) as order_amount,
        sum(scoped_orders.quantity) as quantity
    from scoped_orders
    inner join date_periods
        on scoped_orders.ordered_date = date_periods.date_day
    group by 1, 2, 3, 4, 5, 6
),

period_orders as (
    select
        account_periods.scope_type,
        account_periods.scope_id,
        account_periods.period_grain,
        account_periods.period_start_date,
        count(*) as ordering_customers,
        sum(
            case
                when account_milestones.repeat_date <= account_periods.period_end_date then 1
                else 0
            end
        ) as repeat_customers,
        sum(account_periods.orders) as orders,
        sum(account_periods.order_amount) as order_amount,
        sum(account_periods.quantity) as quantity
    from account_periods
    inner join account_milestones
        on
            account_periods.scope_type = account_milestones.scope_type
            and account_periods.scope_id = account_milestones.scope_id
            and account_periods.account_id = account_milestones.account_id
    group by 1, 2, 3, 4
),

-- Accounts that placed their first (second) order in the period; summed over the periods to
-- date below into the customers (repeat customers) to date.
period_milestones as (
    select
        milestones.scope_type,
        milestones.scope_id,
        date_periods.period_grain,
        date_periods.period_start_date,
        sum(milestones.is_first_order) as first_order_customers,
        sum(milestones.is_second_order) as new_repeat_customers
    from (
        select
            scope_type,
            scope_id,
            first_order_date as milestone_date,
            1 as is_first_order,
            0 as is_second_order
        from account_milestones
        union all
        select
            scope_type,
            scope_id,
            repeat_date as milestone_date,
            0 as is_first_order,
            1 as is_second_order
        from account_milestones
        where repeat_date is not null
    ) as milestones
    inner join date_periods
        on milestones.milestone_date = date_periods.date_day
    group by 1, 2, 3, 4
),

period_surveys as (
    select
        scoped_surveys.scope_type,
        scoped_surveys.scope_id,
        date_periods.period_grain,
        date_periods.period_start_date,
        count(*) as survey_responses,
        sum(scoped_surveys.score) as score_sum,
        count(scoped_surveys.normalised_score) as normalised_responses,
        {{ exact_sum('scoped_surveys.normalised_score') }} as normalised_score_sum
    from scoped_surveys
    inner join date_periods
        on scoped_surveys.responded_date = date_periods.date_day
    group by 1, 2, 3, 4
),

joined as (
    select
        scope_periods.period_grain,
        scope_periods.period_start_date,
        scope_periods.period_end_date,
        scope_periods.scope_type,
        scope_periods.scope_id,
        coalesce(period_orders.ordering_customers, 0) as ordering_customers,
        coalesce(period_orders.repeat_customers, 0) as repeat_customers,
        -- The scope's periods run without gaps from its first activity, so the running sum of
        -- first (second) orders is the count of accounts with one (two) orders by period end.
        sum(coalesce(period_milestones.first_order_customers, 0)) over (
            partition by scope_periods.scope_type, scope_periods.scope_id, scope_periods.period_grain
            order by scope_periods.period_start_date
            rows between unbounded preceding and current row
        ) as customers_with_orders_to_date,
        sum(coalesce(period_milestones.new_repeat_customers, 0)) over (
            partition by scope_periods.scope_type, scope_periods.scope_id, scope_periods.period_grain
            order by scope_periods.period_start_date
            rows between unbounded preceding and current row
        ) as repeat_customers_to_date,
        coalesce(period_orders.orders, 0) as orders,
        coalesce(period_orders.order_amount, 0) as order_amount,
        coalesce(period_orders.quantity, 0) as quantity,
        coalesce(period_surveys.survey_responses, 0) as survey_responses,
        coalesce(period_surveys.score_sum, 0) as score_sum,
        coalesce(period_surveys.normalised_responses, 0) as normalised_responses,
        coalesce(period_surveys.normalised_score_sum, 0) as normalised_score_sum
    from scope_periods
    left join period_orders
        on {{ join_on('scope_periods', 'period_orders', period_key) }}
    left join period_milestones
        on {{ join_on('scope_periods', 'period_milestones', period_key) }}
    left join period_surveys
        on {{ join_on('scope_periods', 'period_surveys', period_key) }}
),

final as (
    select
        {{ dbt.hash(
            "period_grain || '|' || cast(period_start_date as " ~ dbt.type_string() ~ ") || '|' || "
            ~ "scope_type || '|' || scope_id"
        ) }} as engagement_id,
        period_grain,
        period_start_date,
        period_end_date,
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
        cast(order_amount as {{ type_money() }}) as order_amount,
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
