-- Outsourced sales agencies (営業代行) vs in-house (自社) by period × agency_key, at the grains
-- month, fiscal quarter and fiscal year (int_date_periods). Fees and spend are monthly data, so
-- there are no day or week rows. Period basis: activities in the period of the activity,
-- opportunities in their creation period, won deals in their won period, fees in the spend
-- month's period; events dated after the as-of date (and fees of a month that has not started)
-- are left out. A period appears when the agency has any activity, opportunity, win or fee in
-- it. Each event counts once per grain. The cost ratios are re-derived per period from the
-- summed fees, appointments, won deals and won amounts (never averaged from months).
-- Fees are the spend rows with spend_category 'agency_fee' for the agency, converted to the
-- reporting currency at the spend month through int_money_converted (the same conversion as
-- kpi_cac, whose agency_fee_amount summed by month × agency_key equals fee_amount at the month
-- grain).
-- Cost ratios are null when the period has no fee row (unknown, not free), as CAC in kpi_cac.
with activities as (
    select * from {{ ref('fct_activities') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

agencies as (
    select * from {{ ref('dim_agencies') }}
),

-- Fees are monthly: only the grains a month rolls up to.
date_periods as (
    select * from {{ ref('int_date_periods') }}
    where period_grain in ('month', 'quarter', 'fiscal_year')
),

spend_rows as (
    select * from {{ ref('stg_canonical__spend') }}
    where spend_category = 'agency_fee'
),

money as (
    select * from {{ ref('int_money_converted') }}
    where record_type = 'spend'
),

fees as (
    select
        spend_rows.spend_month_start_date as event_date,
        coalesce(spend_rows.agency_id, 'in_house') as agency_key,
        money.reporting_amount as fee_amount
    from spend_rows
    inner join money
        on {{ spend_record_id('spend_rows') }} = money.record_id
),

-- One row per event, with the measure it adds to; summed per period × agency below.
events as (
    select
        activity_date as event_date,
        agency_key,
        1 as activities,
        case when is_call then 1 else 0 end as calls,
        case when is_connected_call then 1 else 0 end as connected_calls,
        case when is_appointment_set then 1 else 0 end as appointments_set,
        0 as opportunities_created,
        0 as won_deals,
        cast(0 as {{ type_money() }}) as won_amount,
        0 as fee_rows,
        cast(0 as {{ type_money() }}) as fee_amount
    from activities
    where activity_date is not null
    union all
    select
        created_date as event_date,
        agency_key,
        0 as activities,
        0 as calls,
        0 as connected_calls,
        0 as appointments_set,
        1 as opportunities_created,
        0 as won_deals,
        cast(0 as {{ type_money() }}) as won_amount,
        0 as fee_rows,
        cast(0 as {{ type_money() }}) as fee_amount
    from opportunities
    where created_date is not null
    union all
    select
        won_date as event_date,
        agency_key,
        0 as activities,
        0 as calls,
        0 as connected_calls,
        0 as appointments_set,
        0 as opportunities_created,
        1 as won_deals,
        cast(coalesce(amount_reporting, 0) as {{ type_money() }}) as won_amount,
        0 as fee_rows,
        cast(0 as {{ type_money() }}) as fee_amount
    from opportunities
    where is_won and won_date is not null
    union all
    select
        event_date,
        agency_key,
        0 as activities,
        0 as calls,
        0 as connected_calls,
        0 as appointments_set,
        0 as opportunities_created,
        0 as won_deals,
        cast(0 as {{ type_money() }}) as won_amount,
        1 as fee_rows,
        cast(fee_amount as {{ type_money() }}) as fee_amount
    from fees
),

-- Each event once per grain, in the period its date falls in (started by the as-of date).
period_events as (
    select
        date_periods.period_grain,
        date_periods.period_start_date,
        date_periods.period_end_date,
        events.*
    from events
    inner join date_periods
        on events.event_date = date_periods.date_day
    where events.event_date <= {{ as_of_date() }}
),

grouped as (
    select
        period_grain,
        period_start_date,
        period_end_date,
        agency_key,
        sum(activities) as activities,
        sum(calls) as calls,
        sum(connected_calls) as connected_calls,
        sum(appointments_set) as appointments_set,
        sum(opportunities_created) as opportunities_created,
        sum(won_deals) as won_deals,
        sum(won_amount) as won_amount,
        sum(fee_rows) > 0 as has_fee_data,
        sum(fee_amount) as fee_amount
    from period_events
    group by 1, 2, 3, 4
),

final as (
    select
        {{ dbt.hash(
            "grouped.period_grain || '|' || cast(grouped.period_start_date as " ~ dbt.type_string()
            ~ ") || '|' || grouped.agency_key"
        ) }} as agency_performance_id,
        grouped.period_grain,
        grouped.period_start_date,
        grouped.period_end_date,
        grouped.agency_key,
        coalesce(agencies.is_outsourced, grouped.agency_key <> 'in_house') as is_outsourced,
        cast(grouped.activities as bigint) as activities,
        cast(grouped.calls as bigint) as calls,
        cast(grouped.connected_calls as bigint) as connected_calls,
        cast(grouped.appointments_set as bigint) as appointments_set,
        cast(grouped.opportunities_created as bigint) as opportunities_created,
        cast(grouped.won_deals as bigint) as won_deals,
        cast(grouped.won_amount as {{ type_money() }}) as won_amount,
        grouped.has_fee_data,
        cast(grouped.fee_amount as {{ type_money() }}) as fee_amount,
        '{{ var("reporting_currency") }}' as currency,
        -- Cost per appointment = fee_amount / appointments_set.
        case
            when grouped.has_fee_data
                then {{ safe_divide('grouped.fee_amount', 'grouped.appointments_set') }}
        end as cost_per_appointment,
        -- Cost per won deal = fee_amount / won_deals.
        case
            when grouped.has_fee_data
                then {{ safe_divide('grouped.fee_amount', 'grouped.won_deals') }}
        end as cost_per_won_deal,
        -- Return on fees = won_amount / fee_amount.
        {{ safe_divide('grouped.won_amount', 'grouped.fee_amount') }} as return_on_fees
    from grouped
    left join agencies
        on grouped.agency_key = agencies.agency_key
)

select * from final
