-- KPI tree reverse planning (逆算): for every won_amount target (予算) of the company or a team
-- whose period (month, fiscal quarter, fiscal year) contains the as-of date or starts after it,
-- the won deals, opportunities, appointments, connected calls and calls needed to reach it at
-- the scope's trailing conversion rates (look-back dbt var reverse_planning_lookback_days,
-- ending on the as-of date), next to the scope's current run rate over the period:
--   revenue = won deals × average deal size; won deals = opportunities × win rate;
--   opportunities = appointments × appointment-to-opportunity rate;
--   appointments = connected calls × appointment rate; connected calls = calls × connect rate.
-- Requirements stay unrounded doubles (the chain round-trips to the target); a zero or missing
-- rate makes its requirement and every one after it null and is named in missing_rate.
{%- set lookback_days = var('reverse_planning_lookback_days') | int %}
{#- Absorbs floating-point noise (10.000000000000002 calls shows as 10, not 11). -#}
{%- set ceil_tolerance = '0.000001' %}
with daily as (
    select * from {{ ref('fct_kpi_daily') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

targets as (
    select * from {{ ref('stg_canonical__targets') }}
    where
        scenario = '{{ var("target_scenario") }}'
        and kpi_code = 'won_amount'
        and scope_type in ('company', 'team')
        and period_grain in ('month', 'quarter', 'fiscal_year')
),

lookback as (
    select
        {{ as_of_date() }} as as_of_date,
        cast({{ dbt.dateadd('day', 1 - lookback_days, as_of_date()) }} as date) as lookback_start_date
),

day_periods as (
    select
        'month' as period_grain,
        date_day,
        month_start_date as period_start_date,
        is_business_day
    from calendar
    union all
    select
        'quarter' as period_grain,
        date_day,
        fiscal_quarter_start_date as period_start_date,
        is_business_day
    from calendar
    union all
    select
        'fiscal_year' as period_grain,
        date_day,
        fiscal_year_start_date as period_start_date,
        is_business_day
    from calendar
),

periods as (
    select
        period_grain,
        period_start_date,
        max(date_day) as period_end_date,
        sum(case when is_business_day then 1 else 0 end) as business_days_in_period
    from day_periods
    group by period_grain, period_start_date
),

trailing_days as (
    select sum(case when calendar.is_business_day then 1 else 0 end) as trailing_business_days
    from calendar
    inner join lookback
        on
            calendar.date_day >= lookback.lookback_start_date
            and calendar.date_day <= lookback.as_of_date
),

-- fct_kpi_daily stops at the as-of date; a fact counts for the rep's team on its day.
trailing_facts as (
    select
        daily.team_id,
        daily.kpi_code,
        daily.numerator
    from daily
    inner join lookback
        on
            daily.fact_date >= lookback.lookback_start_date
            and daily.fact_date <= lookback.as_of_date
    where
        daily.kpi_code in (
            'won_amount', 'deals_won', 'opportunities_created', 'appointments', 'connect_rate', 'calls'
        )
),

trailing_scoped as (
    select
        'company' as scope_type,
        'company' as scope_id,
        kpi_code,
        numerator
    from trailing_facts
    union all
    select
        'team' as scope_type,
        team_id as scope_id,
        kpi_code,
        numerator
    from trailing_facts
),

trailing_totals as (
    select
        scope_type,
        scope_id,
        sum(case when kpi_code = 'won_amount' then numerator else 0 end) as trailing_won_amount,
        sum(case when kpi_code = 'deals_won' then numerator else 0 end) as trailing_won_deals,
        sum(case when kpi_code = 'opportunities_created' then numerator else 0 end)
            as trailing_opportunities,
        sum(case when kpi_code = 'appointments' then numerator else 0 end) as trailing_appointments,
        sum(case when kpi_code = 'connect_rate' then numerator else 0 end) as trailing_connected_calls,
        sum(case when kpi_code = 'calls' then numerator else 0 end) as trailing_calls
    from trailing_scoped
    group by scope_type, scope_id
),

planned as (
    select
        targets.period_grain,
        targets.period_start_date,
        periods.period_end_date,
        targets.scope_type,
        targets.scope_id,
        cast(targets.target_value as {{ type_double() }}) as revenue_target,
        cast(periods.business_days_in_period as integer) as business_days_in_period,
        cast(coalesce(trailing_totals.trailing_won_amount, 0) as {{ type_double() }}) as trailing_won_amount,
        cast(coalesce(trailing_totals.trailing_won_deals, 0) as {{ type_double() }}) as trailing_won_deals,
        cast(coalesce(trailing_totals.trailing_opportunities, 0) as {{ type_double() }}) as trailing_opportunities,
        cast(coalesce(trailing_totals.trailing_appointments, 0) as {{ type_double() }}) as trailing_appointments,
        cast(coalesce(trailing_totals.trailing_connected_calls, 0) as {{ type_double() }})
            as trailing_connected_calls,
        cast(coalesce(trailing_totals.trailing_calls, 0) as {{ type_double() }}) as trailing_calls
    from targets
    inner join periods
        on
            targets.period_grain = periods.period_grain
            and targets.period_start_date = periods.period_start_date
    left join trailing_totals
        on
            targets.scope_type = trailing_totals.scope_type
            and targets.scope_id = trailing_totals.scope_id
    where periods.period_end_date >= {{ as_of_date() }}
),

rates as (
    select
        planned.*,
        trailing_days.trailing_business_days,
        {{ safe_divide('planned.trailing_won_amount', 'planned.trailing_won_deals') }} as average_deal_size,
        {{ safe_divide('planned.trailing_won_deals', 'planned.trailing_opportunities') }} as win_rate,
        {{ safe_divide('planned.trailing_opportunities', 'planned.trailing_appointments') }}
            as appointment_to_opportunity_rate,
        {{ safe_divide('planned.trailing_appointments', 'planned.trailing_connected_calls') }}
            as appointment_rate,
        {{ safe_divide('planned.trailing_connected_calls', 'planned.trailing_calls') }} as connect_rate
    from planned
    cross join trailing_days
),

-- Down the tree, one step per CTE: each requirement divides the one before it by its rate;
-- safe_divide nulls a zero rate and a null requirement stays null further down.
required_deals as (
    select
        rates.*,
        {{ safe_divide('rates.revenue_target', 'rates.average_deal_size') }} as required_won_deals
    from rates
),

required_opportunities as (
    select
        required_deals.*,
        {{ safe_divide('required_deals.required_won_deals', 'required_deals.win_rate') }}
            as required_opportunities
    from required_deals
),

required_appointments as (
    select
        required_opportunities.*,
        {{ safe_divide(
            'required_opportunities.required_opportunities',
            'required_opportunities.appointment_to_opportunity_rate'
        ) }} as required_appointments
    from required_opportunities
),

required_connected_calls as (
    select
        required_appointments.*,
        {{ safe_divide(
            'required_appointments.required_appointments', 'required_appointments.appointment_rate'
        ) }} as required_connected_calls
    from required_appointments
),

required_calls as (
    select
        required_connected_calls.*,
        {{ safe_divide(
            'required_connected_calls.required_connected_calls', 'required_connected_calls.connect_rate'
        ) }} as required_calls
    from required_connected_calls
),

-- Current pace over the whole period: trailing count per business day × business days in it.
run_rates as (
    select
        required_calls.*,
        {{ safe_divide(
            'required_calls.trailing_won_amount * required_calls.business_days_in_period',
            'required_calls.trailing_business_days'
        ) }} as run_rate_won_amount,
        {{ safe_divide(
            'required_calls.trailing_won_deals * required_calls.business_days_in_period',
            'required_calls.trailing_business_days'
        ) }} as run_rate_won_deals,
        {{ safe_divide(
            'required_calls.trailing_opportunities * required_calls.business_days_in_period',
            'required_calls.trailing_business_days'
        ) }} as run_rate_opportunities,
        {{ safe_divide(
            'required_calls.trailing_appointments * required_calls.business_days_in_period',
            'required_calls.trailing_business_days'
        ) }} as run_rate_appointments,
        {{ safe_divide(
            'required_calls.trailing_connected_calls * required_calls.business_days_in_period',
            'required_calls.trailing_business_days'
        ) }} as run_rate_connected_calls,
        {{ safe_divide(
            'required_calls.trailing_calls * required_calls.business_days_in_period',
            'required_calls.trailing_business_days'
        ) }} as run_rate_calls
    from required_calls
),

final as (
    select
        {{ dbt.hash(
            "run_rates.period_grain || '|' || cast(run_rates.period_start_date as "
            ~ dbt.type_string() ~ ") || '|' || run_rates.scope_type || '|' || run_rates.scope_id"
        ) }} as reverse_planning_id,
        run_rates.period_grain,
        run_rates.period_start_date,
        run_rates.period_end_date,
        lookback.as_of_date,
        lookback.lookback_start_date,
        run_rates.scope_type,
        run_rates.scope_id,
        cast(run_rates.revenue_target as {{ type_money() }}) as revenue_target,
        cast('{{ var("reporting_currency") }}' as {{ dbt.type_string() }}) as currency,
        cast(run_rates.trailing_won_amount as {{ type_money() }}) as trailing_won_amount,
        run_rates.trailing_won_deals,
        run_rates.trailing_opportunities,
        run_rates.trailing_appointments,
        run_rates.trailing_connected_calls,
        run_rates.trailing_calls,
        cast(run_rates.average_deal_size as {{ type_double() }}) as average_deal_size,
        cast(run_rates.win_rate as {{ type_double() }}) as win_rate,
        cast(run_rates.appointment_to_opportunity_rate as {{ type_double() }})
            as appointment_to_opportunity_rate,
        cast(run_rates.appointment_rate as {{ type_double() }}) as appointment_rate,
        cast(run_rates.connect_rate as {{ type_double() }}) as connect_rate,
        cast(run_rates.required_won_deals as {{ type_double() }}) as required_won_deals,
        cast(run_rates.required_opportunities as {{ type_double() }}) as required_opportunities,
        cast(run_rates.required_appointments as {{ type_double() }}) as required_appointments,
        cast(run_rates.required_connected_calls as {{ type_double() }}) as required_connected_calls,
        cast(run_rates.required_calls as {{ type_double() }}) as required_calls,
        cast(ceil(run_rates.required_won_deals - {{ ceil_tolerance }}) as bigint) as required_won_deals_ceil,
        cast(ceil(run_rates.required_opportunities - {{ ceil_tolerance }}) as bigint)
            as required_opportunities_ceil,
        cast(ceil(run_rates.required_appointments - {{ ceil_tolerance }}) as bigint)
            as required_appointments_ceil,
        cast(ceil(run_rates.required_connected_calls - {{ ceil_tolerance }}) as bigint)
            as required_connected_calls_ceil,
        cast(ceil(run_rates.required_calls - {{ ceil_tolerance }}) as bigint) as required_calls_ceil,
        run_rates.business_days_in_period,
        cast(run_rates.trailing_business_days as integer) as trailing_business_days,
        cast(run_rates.run_rate_won_amount as {{ type_money() }}) as run_rate_won_amount,
        cast(run_rates.run_rate_won_deals as {{ type_double() }}) as run_rate_won_deals,
        cast(run_rates.run_rate_opportunities as {{ type_double() }}) as run_rate_opportunities,
        cast(run_rates.run_rate_appointments as {{ type_double() }}) as run_rate_appointments,
        cast(run_rates.run_rate_connected_calls as {{ type_double() }}) as run_rate_connected_calls,
        cast(run_rates.run_rate_calls as {{ type_double() }}) as run_rate_calls,
        {{ safe_divide('run_rates.revenue_target', 'run_rates.run_rate_won_amount') }}
            as required_to_run_rate_won_amount,
        {{ safe_divide('run_rates.required_won_deals', 'run_rates.run_rate_won_deals') }}
            as required_to_run_rate_won_deals,
        {{ safe_divide('run_rates.required_opportunities', 'run_rates.run_rate_opportunities') }}
            as required_to_run_rate_opportunities,
        {{ safe_divide('run_rates.required_appointments', 'run_rates.run_rate_appointments') }}
            as required_to_run_rate_appointments,
        {{ safe_divide('run_rates.required_connected_calls', 'run_rates.run_rate_connected_calls') }}
            as required_to_run_rate_connected_calls,
        {{ safe_divide('run_rates.required_calls', 'run_rates.run_rate_calls') }}
            as required_to_run_rate_calls,
        -- The first rate of the chain that is zero or missing.
        case
            when coalesce(run_rates.average_deal_size, 0) = 0 then 'average_deal_size'
            when coalesce(run_rates.win_rate, 0) = 0 then 'win_rate'
            when coalesce(run_rates.appointment_to_opportunity_rate, 0) = 0
                then 'appointment_to_opportunity_rate'
            when coalesce(run_rates.appointment_rate, 0) = 0 then 'appointment_rate'
            when coalesce(run_rates.connect_rate, 0) = 0 then 'connect_rate'
        end as missing_rate
    from run_rates
    cross join lookback
)

select * from final
