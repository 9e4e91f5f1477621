-- Customer and revenue retention (顧客維持率, 解約率, NRR) by acquisition cohort × months since
-- acquisition. The cohort of an account is the month of its first MRR; month 0 is that month.
--   logo retention       = active customers in month k / customers in the cohort
--   net revenue retention = cohort MRR in month k / cohort MRR in month 0
--   gross revenue retention = sum over accounts of min(MRR in month k, MRR in month 0)
--                             / cohort MRR in month 0
--   revenue churn rate   = MRR churned in months 1..k / cohort MRR in month 0
with movements as (
    select * from {{ ref('fct_mrr_movements') }}
),

acquisition as (
    select
        account_id,
        currency,
        min(month_start_date) as cohort_month_start_date
    from movements
    where mrr_movement_type = 'new'
    group by account_id, currency
),

account_months as (
    select
        acquisition.cohort_month_start_date,
        movements.account_id,
        movements.currency,
        {{ dbt.datediff('acquisition.cohort_month_start_date', 'movements.month_start_date', 'month') }}
            as months_since_acquisition,
        movements.month_start_date,
        movements.ending_mrr,
        movements.expansion_mrr,
        movements.contraction_mrr,
        movements.churned_mrr,
        movements.reactivation_mrr
    from movements
    inner join acquisition
        on movements.account_id = acquisition.account_id
            and movements.currency = acquisition.currency
    where movements.month_start_date >= acquisition.cohort_month_start_date
),

with_baseline as (
    select
        account_months.*,
        first_value(account_months.ending_mrr) over (
            partition by account_months.account_id, account_months.currency order by account_months.month_start_date
        ) as month_zero_mrr,
        sum(case when account_months.months_since_acquisition > 0 then account_months.churned_mrr else 0 end) over (
            partition by account_months.account_id, account_months.currency order by account_months.month_start_date
            rows between unbounded preceding and current row
        ) as cumulative_churned_mrr,
        sum(case when account_months.months_since_acquisition > 0 then account_months.expansion_mrr else 0 end) over (
            partition by account_months.account_id, account_months.currency order by account_months.month_start_date
            rows between unbounded preceding and current row
        ) as cumulative_expansion_mrr,
        sum(case when account_months.months_since_acquisition > 0 then account_months.contraction_mrr else 0 end) over (
            partition by account_months.account_id, account_months.currency order by account_months.month_start_date
            rows between unbounded preceding and current row
        ) as cumulative_contraction_mrr
    from account_months
),

cohorts as (
    select
        cohort_month_start_date,
        currency,
        count(*) as cohort_customers,
        sum(ending_mrr) as cohort_starting_mrr
    from with_baseline
    where months_since_acquisition = 0
    group by cohort_month_start_date, currency
),

by_month as (
    select
        cohort_month_start_date,
        currency,
        months_since_acquisition,
        month_start_date,
        sum(case when ending_mrr > 0 then 1 else 0 end) as active_customers,
        sum(ending_mrr) as cohort_mrr,
        sum(case when ending_mrr < month_zero_mrr then ending_mrr else month_zero_mrr end)
            as retained_base_mrr,
        sum(cumulative_expansion_mrr) as cumulative_expansion_mrr,
        sum(cumulative_contraction_mrr) as cumulative_contraction_mrr,
        sum(cumulative_churned_mrr) as cumulative_churned_mrr
    from with_baseline
    group by cohort_month_start_date, currency, months_since_acquisition, month_start_date
),

final as (
    select
        {{ dbt.hash(
            "cast(by_month.cohort_month_start_date as " ~ dbt.type_string() ~ ") || '|' || "
            ~ "by_month.currency || '|' || cast(by_month.months_since_acquisition as "
            ~ dbt.type_string() ~ ")"
        ) }} as retention_id,
        by_month.cohort_month_start_date,
        cast(by_month.months_since_acquisition as integer) as months_since_acquisition,
        by_month.month_start_date,
        by_month.currency,
        cast(cohorts.cohort_customers as bigint) as cohort_customers,
        cast(by_month.active_customers as bigint) as active_customers,
        cast(cohorts.cohort_customers - by_month.active_customers as bigint) as churned_customers,
        {{ safe_divide('by_month.active_customers', 'cohorts.cohort_customers') }}
            as logo_retention_rate,
        {{ safe_divide('cohorts.cohort_customers - by_month.active_customers', 'cohorts.cohort_customers') }}
            as logo_churn_rate,
        cast(cohorts.cohort_starting_mrr as decimal(18, 2)) as cohort_starting_mrr,
        cast(by_month.cohort_mrr as decimal(18, 2)) as cohort_mrr,
        cast(by_month.retained_base_mrr as decimal(18, 2)) as retained_base_mrr,
        cast(by_month.cumulative_expansion_mrr as decimal(18, 2)) as cumulative_expansion_mrr,
        cast(by_month.cumulative_contraction_mrr as decimal(18, 2)) as cumulative_contraction_mrr,
        cast(by_month.cumulative_churned_mrr as decimal(18, 2)) as cumulative_churned_mrr,
        {{ safe_divide('by_month.cohort_mrr', 'cohorts.cohort_starting_mrr') }}
            as net_revenue_retention_rate,
        {{ safe_divide('by_month.retained_base_mrr', 'cohorts.cohort_starting_mrr') }}
            as gross_revenue_retention_rate,
        {{ safe_divide('by_month.cumulative_churned_mrr', 'cohorts.cohort_starting_mrr') }}
            as revenue_churn_rate
    from by_month
    inner join cohorts
        on by_month.cohort_month_start_date = cohorts.cohort_month_start_date
            and by_month.currency = cohorts.currency
)

select * from final
