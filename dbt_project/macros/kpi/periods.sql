{#- The days up to the as-of date with the period they fall in at each reporting grain
    (int_date_periods), optionally only some grains: join an event date to date_day to report
    it at every grain without counting anything dated after the as-of date. -#}
{% macro reporting_periods(grains=none) -%}
    select
        period_grain,
        date_day,
        period_start_date,
        period_end_date
    from {{ ref('int_date_periods') }}
    where
        date_day <= {{ as_of_date() }}
        {%- if grains %}
        and period_grain in ('{{ grains | join("', '") }}')
        {%- endif %}
{%- endmacro %}
