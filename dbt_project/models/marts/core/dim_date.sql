{%- set fy_start = var('fiscal_year_start_month') | int -%}
{%- set start_var = var('calendar_start_date', none) -%}
{%- set end_var = var('calendar_end_date', none) -%}
{#- The calendar covers the data: from the start of the fiscal year of the earliest event to the
    end of the fiscal year after the one holding the latest event, the as-of date or a target
    (so next year's targets and expected close dates have days). dbt vars calendar_start_date /
    calendar_end_date fix either bound instead; an event outside fixed bounds then fails the
    test assert_events_inside_calendar, naming the record, file and row. -#}
{%- set max_days = 80000 -%}
{%- if start_var and end_var -%}
    {%- set span = (modules.datetime.date.fromisoformat(end_var | string)
        - modules.datetime.date.fromisoformat(start_var | string)).days + 1 -%}
    {%- set max_days = [max_days, span] | max -%}
{%- endif -%}
with event_dates as (
    {{ calendar_event_dates() }}
),

event_range as (
    select
        min(event_date) as first_event_date,
        max(event_date) as last_event_date
    from event_dates
),

anchors as (
    select
        {%- if start_var %}
        cast('{{ start_var }}' as date) as first_date,
        {%- else %}
        {{ fiscal_year_start('least(coalesce(first_event_date, ' ~ as_of_date() ~ '), ' ~ as_of_date() ~ ')') }}
            as first_date,
        {%- endif %}
        {%- if end_var %}
        cast('{{ end_var }}' as date) as last_date
        {%- else %}
        cast({{ dbt.dateadd(
            'day', -1,
            dbt.dateadd('month', 24, fiscal_year_start(
                'greatest(coalesce(last_event_date, ' ~ as_of_date() ~ '), ' ~ as_of_date() ~ ')'
            ))
        ) }} as date) as last_date
        {%- endif %}
    from event_range
),

numbers as (
    {{ dbt.generate_series(max_days) }}
),

spine as (
    select cast({{ dbt.dateadd('day', 'numbers.generated_number - 1', 'anchors.first_date') }} as date)
        as date_day
    from numbers
    cross join anchors
    where numbers.generated_number - 1
        <= {{ dbt.datediff('anchors.first_date', 'anchors.last_date', 'day') }}
),

holidays as (
    select * from {{ ref('stg_reference__jp_public_holidays') }}
),

days as (
    select
        cast(spine.date_day as date) as date_day,
        holidays.holiday_name
    from spine
    left join holidays
        on spine.date_day = holidays.holiday_date
),

calendar as (
    select
        date_day,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        {{ iso_year('date_day') }} as iso_year,
        {{ iso_week('date_day') }} as iso_week,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start_date,
        cast(extract(year from date_day) as integer) as calendar_year,
        cast(extract(month from date_day) as integer) as calendar_month,
        {{ iso_day_of_week('date_day') }} as iso_day_of_week,
        holiday_name
    from days
),

fiscal as (
    select
        calendar.*,
        -- Fiscal year named after the calendar year it starts in (FY2025 = 2025-04 .. 2026-03).
        case
            when calendar.calendar_month >= {{ fy_start }} then calendar.calendar_year
            else calendar.calendar_year - 1
        end as fiscal_year,
        mod(calendar.calendar_month - {{ fy_start }} + 12, 12) + 1 as fiscal_month_of_year
    from calendar
),

final as (
    select
        date_day,
        week_start_date,
        iso_year,
        iso_week,
        month_start_date,
        quarter_start_date,
        calendar_year,
        calendar_month,
        fiscal_year,
        fiscal_month_of_year,
        case
            when fiscal_month_of_year <= 3 then 1
            when fiscal_month_of_year <= 6 then 2
            when fiscal_month_of_year <= 9 then 3
            else 4
        end as fiscal_quarter,
        cast({{ dbt.dateadd(
            'month',
            fy_start - 1,
            "cast(cast(fiscal_year as " ~ dbt.type_string() ~ ") || '-01-01' as date)"
        ) }} as date) as fiscal_year_start_date,
        cast({{ dbt.dateadd(
            'month',
            "3 * (case when fiscal_month_of_year <= 3 then 0 when fiscal_month_of_year <= 6 then 1 "
            ~ "when fiscal_month_of_year <= 9 then 2 else 3 end)",
            dbt.dateadd(
                'month',
                fy_start - 1,
                "cast(cast(fiscal_year as " ~ dbt.type_string() ~ ") || '-01-01' as date)"
            )
        ) }} as date) as fiscal_quarter_start_date,
        iso_day_of_week,
        iso_day_of_week in (6, 7) as is_weekend,
        holiday_name is not null as is_public_holiday,
        holiday_name,
        iso_day_of_week not in (6, 7) and holiday_name is null as is_business_day
    from fiscal
)

select * from final
