-- Customer acquisition cost (顧客獲得コスト) by period × channel × agency. Spend is monthly data,
-- so the grains are month, fiscal quarter and fiscal year only (period_grain of int_date_periods;
-- no day or week rows), for the periods started by the as-of date; a period still running holds
-- the months started by the as-of date.
-- A new customer (新規顧客) is an account acquired in the period (int_new_customers: its first
-- won new-business deal, else its first paying subscription; renewals and expansions never
-- count), attributed to the channel and agency given there (the deal's, else the account's
-- earliest lead's, else field_sales / in_house). Spend is what spend.csv gives for
-- the channel and agency in the months of the period. CAC = spend / new customers; CAC payback
-- (months) = spend / (new MRR of those customers × gross margin), both from the sums over the
-- period. Rates keep numerator and denominator.
-- LTV (顧客生涯価値) per new customer = new MRR per new customer × gross margin / monthly
-- revenue churn rate, the churn rate taken company-wide over the 12 months ending with the
-- period's last month (the as-of month while the period is running): (churned + contraction
-- MRR) / starting MRR summed over those months. Every ratio is re-derived from the period's
-- summed numerators and denominators, never by adding monthly ratios. With no churn observed in
-- the window the LTV is null (not infinite); LTV:CAC = LTV / CAC.
with spend_rows as (
    select * from {{ ref('stg_canonical__spend') }}
),

money as (
    select * from {{ ref('int_money_converted') }}
    where record_type = 'spend'
),

-- Spend in the reporting currency (converted at the spend month).
spend as (
    select
        spend_rows.spend_month_start_date,
        spend_rows.channel,
        spend_rows.agency_id,
        spend_rows.spend_category,
        money.reporting_amount as spend_amount,
        money.reporting_currency as currency
    from spend_rows
    inner join money
        on {{ spend_record_id('spend_rows') }} = money.record_id
),

acquisitions as (
    select * from {{ ref('int_new_customers') }}
),

mrr as (
    select * from {{ ref('fct_mrr_movements') }}
),

-- Month, fiscal quarter and fiscal year of every day up to the as-of date.
periods as (
    {{ reporting_periods(['month', 'quarter', 'fiscal_year']) }}
),

mrr_by_month as (
    select
        month_start_date,
        sum(churned_mrr + contraction_mrr) as churned_mrr,
        sum(starting_mrr) as starting_mrr
    from mrr
    group by 1
),

new_customer_mrr as (
    select
        account_id,
        sum(new_mrr) as new_mrr_amount,
        max(currency) as currency
    from mrr
    group by account_id
),

new_customers as (
    select
        periods.period_grain,
        periods.period_start_date,
        periods.period_end_date,
        coalesce(acquisitions.channel, 'unmapped') as channel,
        acquisitions.agency_key,
        count(*) as new_customers,
        coalesce(sum(new_customer_mrr.new_mrr_amount), 0) as new_mrr_amount,
        max(new_customer_mrr.currency) as mrr_currency
    from acquisitions
    inner join periods
        on acquisitions.acquired_date = periods.date_day
    left join new_customer_mrr
        on acquisitions.account_id = new_customer_mrr.account_id
    group by 1, 2, 3, 4, 5
),

spend_by_period as (
    select
        periods.period_grain,
        periods.period_start_date,
        periods.period_end_date,
        spend.channel,
        coalesce(spend.agency_id, 'in_house') as agency_key,
        sum(spend.spend_amount) as spend_amount,
        sum(case when spend.spend_category = 'marketing' then spend.spend_amount else 0 end)
            as marketing_spend_amount,
        sum(case when spend.spend_category = 'sales' then spend.spend_amount else 0 end)
            as sales_spend_amount,
        sum(case when spend.spend_category = 'agency_fee' then spend.spend_amount else 0 end)
            as agency_fee_amount,
        max(spend.currency) as currency,
        count(distinct spend.currency) as currency_count
    from spend
    inner join periods
        on spend.spend_month_start_date = periods.date_day
    where spend.spend_month_start_date <= {{ as_of_date() }}
    group by 1, 2, 3, 4, 5
),

joined as (
    select
        coalesce(spend_by_period.period_grain, new_customers.period_grain) as period_grain,
        coalesce(spend_by_period.period_start_date, new_customers.period_start_date)
            as period_start_date,
        coalesce(spend_by_period.period_end_date, new_customers.period_end_date)
            as period_end_date,
        coalesce(spend_by_period.channel, new_customers.channel) as channel,
        coalesce(spend_by_period.agency_key, new_customers.agency_key) as agency_key,
        spend_by_period.period_start_date is not null as has_spend_data,
        coalesce(spend_by_period.spend_amount, 0) as spend_amount,
        coalesce(spend_by_period.marketing_spend_amount, 0) as marketing_spend_amount,
        coalesce(spend_by_period.sales_spend_amount, 0) as sales_spend_amount,
        coalesce(spend_by_period.agency_fee_amount, 0) as agency_fee_amount,
        coalesce(spend_by_period.currency, new_customers.mrr_currency) as currency,
        coalesce(spend_by_period.currency_count, 1) as currency_count,
        coalesce(new_customers.new_customers, 0) as new_customers,
        coalesce(new_customers.new_mrr_amount, 0) as new_mrr_amount
    from spend_by_period
    full outer join new_customers
        on spend_by_period.period_grain = new_customers.period_grain
            and spend_by_period.period_start_date = new_customers.period_start_date
            and spend_by_period.channel = new_customers.channel
            and spend_by_period.agency_key = new_customers.agency_key
),

-- The last month of each row's period, or the as-of month while the period is running.
row_periods as (
    select distinct
        period_grain,
        period_start_date,
        case
            when period_end_date > {{ as_of_date() }}
                then cast({{ dbt.date_trunc('month', as_of_date()) }} as date)
            else cast({{ dbt.date_trunc('month', 'period_end_date') }} as date)
        end as window_end_month_start_date
    from joined
),

-- Company-wide revenue churn over the 12 months ending with that month.
trailing_churn as (
    select
        row_periods.period_grain,
        row_periods.period_start_date,
        coalesce(sum(mrr_by_month.churned_mrr), 0) as trailing_churned_mrr,
        coalesce(sum(mrr_by_month.starting_mrr), 0) as trailing_starting_mrr
    from row_periods
    left join mrr_by_month
        on
            row_periods.window_end_month_start_date >= mrr_by_month.month_start_date
            and {{ dbt.dateadd('month', -12, 'row_periods.window_end_month_start_date') }}
            < mrr_by_month.month_start_date
    group by 1, 2
),

with_ltv as (
    select
        joined.*,
        trailing_churn.trailing_churned_mrr,
        trailing_churn.trailing_starting_mrr,
        case
            when joined.has_spend_data then {{ safe_divide('joined.spend_amount', 'joined.new_customers') }}
        end as cac_amount,
        -- LTV = (new MRR / new customers) × gross margin × trailing starting MRR / trailing churned
        -- MRR; null without new customers, their MRR or any churn in the window.
        case
            when joined.new_mrr_amount > 0
                then {{ safe_divide(
                    'joined.new_mrr_amount * ' ~ var('gross_margin') ~ ' * trailing_churn.trailing_starting_mrr',
                    'joined.new_customers * trailing_churn.trailing_churned_mrr'
                ) }}
        end as ltv_amount
    from joined
    inner join trailing_churn
        on joined.period_grain = trailing_churn.period_grain
            and joined.period_start_date = trailing_churn.period_start_date
),

final as (
    select
        {{ dbt.hash(
            "period_grain || '|' || cast(period_start_date as " ~ dbt.type_string() ~ ") || '|' || "
            ~ "channel || '|' || agency_key"
        ) }} as cac_id,
        period_grain,
        period_start_date,
        period_end_date,
        channel,
        agency_key,
        has_spend_data,
        cast(spend_amount as {{ type_money() }}) as spend_amount,
        cast(marketing_spend_amount as {{ type_money() }}) as marketing_spend_amount,
        cast(sales_spend_amount as {{ type_money() }}) as sales_spend_amount,
        cast(agency_fee_amount as {{ type_money() }}) as agency_fee_amount,
        coalesce(currency, '{{ var("reporting_currency") }}') as currency,
        cast(currency_count as integer) as currency_count,
        cast(new_customers as bigint) as new_customers,
        cast(new_mrr_amount as {{ type_money() }}) as new_mrr_amount,
        cast({{ var('gross_margin') }} as {{ type_double() }}) as gross_margin,
        -- CAC = spend / new customers (null without spend data or without new customers).
        cast(cac_amount as {{ type_money() }}) as cac_amount,
        -- CAC payback months = spend / (new MRR × gross margin).
        cast(new_mrr_amount * {{ var('gross_margin') }} as {{ type_double() }})
            as cac_payback_denominator,
        case
            when has_spend_data
                then {{ safe_divide('spend_amount', 'new_mrr_amount * ' ~ var('gross_margin')) }}
        end as cac_payback_months,
        cast(trailing_churned_mrr as {{ type_money() }}) as trailing_churned_mrr,
        cast(trailing_starting_mrr as {{ type_money() }}) as trailing_starting_mrr,
        -- Monthly revenue churn rate (損耗率) = trailing_churned_mrr / trailing_starting_mrr.
        {{ safe_divide('trailing_churned_mrr', 'trailing_starting_mrr') }} as trailing_revenue_churn_rate,
        cast(ltv_amount as {{ type_money() }}) as ltv_amount,
        -- LTV:CAC = ltv_amount / cac_amount; null when either is null or zero.
        case
            when ltv_amount > 0 then {{ safe_divide('ltv_amount', 'cac_amount') }}
        end as ltv_to_cac_ratio
    from with_ltv
)

select * from final
