-- Customer and revenue retention (顧客維持率, 解約率, NRR) by acquisition cohort × periods since
-- acquisition. MRR is monthly, so the grains are month, fiscal quarter and fiscal year only
-- (period_grain of int_date_periods), for the periods started by the as-of date.
-- The cohort of an account is the period (at the row's grain) of its first MRR month;
-- periods_since_acquisition counts whole periods from the cohort period (0 = the cohort period).
-- Every period is measured at its END: the MRR at the end of its last month, or of the as-of
-- month while the period is running (measured_month_start_date). The baseline of an account
-- is its MRR in its acquisition month (month 0), at every grain.
-- Scope: 'company' (scope_id 'company'), 'industry' (業種) and 'company_size' (従業員規模) of the
-- account (dim_accounts; 'unknown' when it has none): filter on one scope_type before summing.
--   logo retention       = cohort customers active at the end of period k / cohort customers
--   net revenue retention = cohort MRR at the end of period k / cohort MRR in the acquisition months
--   gross revenue retention = sum over accounts of min(MRR at the end of period k, MRR in
--                             month 0) / cohort MRR in the acquisition months
--   revenue churn rate   = MRR churned after the acquisition month up to the end of period k
--                          / cohort MRR in the acquisition months
with movements as (
    select * from {{ ref('fct_mrr_movements') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

-- The month, fiscal quarter and fiscal year of every day, with the month each period is
-- measured at: its last month, or the as-of month while it is running.
periods as (
    select
        period_grain,
        date_day,
        period_start_date,
        period_end_date,
        case
            when period_end_date > {{ as_of_date() }}
                then cast({{ dbt.date_trunc('month', as_of_date()) }} as date)
            else cast({{ dbt.date_trunc('month', 'period_end_date') }} as date)
        end as measured_month_start_date,
        case period_grain when 'month' then 1 when 'quarter' then 3 else 12 end as months_per_period
    from {{ ref('int_date_periods') }}
    where
        period_grain in ('month', 'quarter', 'fiscal_year')
        and period_start_date <= {{ as_of_date() }}
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

-- The account's segment: industry (業種) and size band (従業員規模), 'unknown' when it has none.
with_segment as (
    select
        with_baseline.*,
        coalesce(accounts.industry, 'unknown') as industry,
        coalesce(accounts.employee_band, 'unknown') as company_size
    from with_baseline
    left join accounts
        on with_baseline.account_id = accounts.account_id
),

-- Every account month once per scope the account belongs to.
scoped as (
    {{ union_scopes('with_segment', {
        'company': "'company'",
        'industry': 'industry',
        'company_size': 'company_size',
    }) }}
),

-- Each account at the measured month of every period from its cohort period on, with the
-- cohort period at the same grain.
account_periods as (
    select
        periods.period_grain,
        cohort_periods.period_start_date as cohort_period_start_date,
        periods.period_start_date,
        periods.period_end_date,
        periods.measured_month_start_date,
        periods.months_per_period,
        scoped.scope_type,
        scoped.scope_id,
        scoped.account_id,
        scoped.currency,
        scoped.ending_mrr,
        scoped.month_zero_mrr,
        scoped.cumulative_expansion_mrr,
        scoped.cumulative_contraction_mrr,
        scoped.cumulative_churned_mrr
    from scoped
    inner join periods
        on
            scoped.month_start_date = periods.date_day
            and scoped.month_start_date = periods.measured_month_start_date
    inner join periods as cohort_periods
        on
            scoped.cohort_month_start_date = cohort_periods.date_day
            and periods.period_grain = cohort_periods.period_grain
),

-- Cohort size and baseline MRR: the accounts acquired in the cohort period, at their month 0.
cohorts as (
    select
        periods.period_grain,
        periods.period_start_date as cohort_period_start_date,
        scoped.scope_type,
        scoped.scope_id,
        scoped.currency,
        count(*) as cohort_customers,
        sum(scoped.ending_mrr) as cohort_starting_mrr
    from scoped
    inner join periods
        on scoped.month_start_date = periods.date_day
    where scoped.months_since_acquisition = 0
    group by 1, 2, 3, 4, 5
),

-- Active customers and MRR of each cohort at the measured month of each period.
by_period as (
    select
        period_grain,
        cohort_period_start_date,
        scope_type,
        scope_id,
        currency,
        period_start_date,
        period_end_date,
        measured_month_start_date,
        months_per_period,
        {{ dbt.datediff('cohort_period_start_date', 'period_start_date', 'month') }}
            as months_from_cohort_period,
        sum(case when ending_mrr > 0 then 1 else 0 end) as active_customers,
        sum(ending_mrr) as cohort_mrr,
        sum(case when ending_mrr < month_zero_mrr then ending_mrr else month_zero_mrr end)
            as retained_base_mrr,
        sum(cumulative_expansion_mrr) as cumulative_expansion_mrr,
        sum(cumulative_contraction_mrr) as cumulative_contraction_mrr,
        sum(cumulative_churned_mrr) as cumulative_churned_mrr
    from account_periods
    group by
        period_grain,
        cohort_period_start_date,
        scope_type,
        scope_id,
        currency,
        period_start_date,
        period_end_date,
        measured_month_start_date,
        months_per_period
),

-- Whole periods since acquisition: the periods are aligned, so the months divide exactly.
numbered as (
    select
        by_period.*,
        cast(by_period.months_from_cohort_period / by_period.months_per_period as integer)
            as periods_since_acquisition
    from by_period
),

final as (
    select
        {{ dbt.hash(
            "by_period.period_grain || '|' || cast(by_period.cohort_period_start_date as "
            ~ dbt.type_string() ~ ") || '|' || by_period.scope_type || '|' || by_period.scope_id"
            ~ " || '|' || by_period.currency || '|' || "
            ~ "cast(by_period.periods_since_acquisition as " ~ dbt.type_string() ~ ")"
        ) }} as retention_id,
        by_period.period_grain,
        by_period.cohort_period_start_date,
        by_period.periods_since_acquisition,
        by_period.period_start_date,
        by_period.period_end_date,
        by_period.measured_month_start_date,
        by_period.scope_type,
        by_period.scope_id,
        by_period.currency,
        cast(cohorts.cohort_customers as bigint) as cohort_customers,
        cast(by_period.active_customers as bigint) as active_customers,
        cast(cohorts.cohort_customers - by_period.active_customers as bigint) as churned_customers,
        {{ safe_divide('by_period.active_customers', 'cohorts.cohort_customers') }}
            as logo_retention_rate,
        {{ safe_divide('cohorts.cohort_customers - by_period.active_customers', 'cohorts.cohort_customers') }}
            as logo_churn_rate,
        cast(cohorts.cohort_starting_mrr as {{ type_money() }}) as cohort_starting_mrr,
        cast(by_period.cohort_mrr as {{ type_money() }}) as cohort_mrr,
        cast(by_period.retained_base_mrr as {{ type_money() }}) as retained_base_mrr,
        cast(by_period.cumulative_expansion_mrr as {{ type_money() }}) as cumulative_expansion_mrr,
        cast(by_period.cumulative_contraction_mrr as {{ type_money() }}) as cumulative_contraction_mrr,
        cast(by_period.cumulative_churned_mrr as {{ type_money() }}) as cumulative_churned_mrr,
        {{ safe_divide('by_period.cohort_mrr', 'cohorts.cohort_starting_mrr') }}
            as net_revenue_retention_rate,
        {{ safe_divide('by_period.retained_base_mrr', 'cohorts.cohort_starting_mrr') }}
            as gross_revenue_retention_rate,
        {{ safe_divide('by_period.cumulative_churned_mrr', 'cohorts.cohort_starting_mrr') }}
            as revenue_churn_rate
    from numbered as by_period
    inner join cohorts
        on by_period.period_grain = cohorts.period_grain
            and by_period.cohort_period_start_date = cohorts.cohort_period_start_date
            and by_period.scope_type = cohorts.scope_type
            and by_period.scope_id = cohorts.scope_id
            and by_period.currency = cohorts.currency
)

select * from final
