-- Sales cycle length (セールスサイクルの長さ) of every deal won by the as-of date.
with opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

final as (
    select
        opportunity_id,
        won_date,
        cast({{ dbt.date_trunc('month', 'won_date') }} as date) as won_month_start_date,
        created_date,
        cast(lead_created_at as date) as lead_created_date,
        cast({{ dbt.datediff('created_date', 'won_date', 'day') }} as integer)  -- noqa: LT05
            as days_opportunity_to_won,
        cast({{ dbt.datediff('cast(lead_created_at as date)', 'won_date', 'day') }} as integer)  -- noqa: LT05
            as days_lead_to_won,
        rep_id,
        team_id,
        lead_source,
        coalesce(channel, 'unmapped') as channel,
        agency_key,
        sourced_by,
        opportunity_type,
        cast(amount_reporting as decimal(18, 2)) as amount,
        reporting_currency as currency
    from opportunities
    where is_won and won_date <= {{ as_of_date() }}
)

select * from final
