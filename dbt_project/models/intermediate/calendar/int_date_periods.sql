-- noqa: disable=LT02
-- (the Jinja loop over grains confuses the layout rules)
-- Every calendar day once per reporting grain, with the period it falls in: day, ISO week
-- (Monday start), month, fiscal quarter and fiscal year (fiscal_year_start_month, April by
-- default). A mart reports at every grain by joining its event date to date_day and grouping
-- by period_grain and period_start_date.
{%- set grains = {
    'day': 'date_day',
    'week': 'week_start_date',
    'month': 'month_start_date',
    'quarter': 'fiscal_quarter_start_date',
    'fiscal_year': 'fiscal_year_start_date',
} %}
with calendar as (
    select * from {{ ref('dim_date') }}
),

day_periods as (
    {% for grain, column in grains.items() %}
    select
        '{{ grain }}' as period_grain,
        date_day,
        {{ column }} as period_start_date,
        is_business_day
    from calendar
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        period_grain,
        date_day,
        period_start_date,
        max(date_day) over (partition by period_grain, period_start_date) as period_end_date,
        is_business_day
    from day_periods
)

select * from final
