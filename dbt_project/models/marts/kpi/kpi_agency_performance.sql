-- Outsourced sales agencies (営業代行) vs in-house (自社) by month × agency_key.
-- Period basis: activities in the month of the activity, opportunities in their creation
-- month, won deals in their won month, fees in the spend month. A month appears when the
-- agency has any activity, opportunity, win or fee in it.
-- Fees are the spend rows with spend_category 'agency_fee' for the agency, converted to the
-- reporting currency at the spend month through int_money_converted (the same conversion as
-- kpi_cac, whose agency_fee_amount summed by month × agency_key equals fee_amount).
-- Cost ratios are null when the month has no fee row (unknown, not free), as CAC in kpi_cac.
with activities as (
    select * from {{ ref('fct_activities') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

agencies as (
    select * from {{ ref('dim_agencies') }}
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
        spend_rows.spend_month_start_date as month_start_date,
        coalesce(spend_rows.agency_id, 'in_house') as agency_key,
        money.reporting_amount as fee_amount
    from spend_rows
    inner join money
        on {{ spend_record_id('spend_rows') }} = money.record_id
),

-- One row per event, with the measure it adds to; summed per month × agency below.
events as (
    select
        cast({{ dbt.date_trunc('month', 'activity_date') }} as date) as month_start_date,
        agency_key,
        1 as activities,
        case when is_call then 1 else 0 end as calls,
        case when is_connected_call then 1 else 0 end as connected_calls,
        case when is_appointment_set then 1 else 0 end as appointments_set,
        0 as opportunities_created,
        0 as won_deals,
        cast(0 as decimal(18, 2)) as won_amount,
        0 as fee_rows,
        cast(0 as decimal(18, 2)) as fee_amount
    from activities
    where activity_date is not null
    union all
    select
        created_month_start_date as month_start_date,
        agency_key,
        0 as activities,
        0 as calls,
        0 as connected_calls,
        0 as appointments_set,
        1 as opportunities_created,
        0 as won_deals,
        cast(0 as decimal(18, 2)) as won_amount,
        0 as fee_rows,
        cast(0 as decimal(18, 2)) as fee_amount
    from opportunities
    where created_month_start_date is not null
    union all
    select
        cast({{ dbt.date_trunc('month', 'won_date') }} as date) as month_start_date,
        agency_key,
        0 as activities,
        0 as calls,
        0 as connected_calls,
        0 as appointments_set,
        0 as opportunities_created,
        1 as won_deals,
        cast(coalesce(amount_reporting, 0) as decimal(18, 2)) as won_amount,
        0 as fee_rows,
        cast(0 as decimal(18, 2)) as fee_amount
    from opportunities
    where is_won and won_date is not null
    union all
    select
        month_start_date,
        agency_key,
        0 as activities,
        0 as calls,
        0 as connected_calls,
        0 as appointments_set,
        0 as opportunities_created,
        0 as won_deals,
        cast(0 as decimal(18, 2)) as won_amount,
        1 as fee_rows,
        cast(fee_amount as decimal(18, 2)) as fee_amount
    from fees
),

grouped as (
    select
        month_start_date,
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
    from events
    group by 1, 2
),

final as (
    select
        {{ dbt.hash(
            "cast(grouped.month_start_date as " ~ dbt.type_string() ~ ") || '|' || grouped.agency_key"
        ) }} as agency_performance_id,
        grouped.month_start_date,
        grouped.agency_key,
        coalesce(agencies.is_outsourced, grouped.agency_key <> 'in_house') as is_outsourced,
        cast(grouped.activities as bigint) as activities,
        cast(grouped.calls as bigint) as calls,
        cast(grouped.connected_calls as bigint) as connected_calls,
        cast(grouped.appointments_set as bigint) as appointments_set,
        cast(grouped.opportunities_created as bigint) as opportunities_created,
        cast(grouped.won_deals as bigint) as won_deals,
        cast(grouped.won_amount as decimal(18, 2)) as won_amount,
        grouped.has_fee_data,
        cast(grouped.fee_amount as decimal(18, 2)) as fee_amount,
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
