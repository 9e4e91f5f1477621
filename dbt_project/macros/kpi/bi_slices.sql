{#- Per-grain tables for BI tools (marts kpi_*_<grain>[_<scope>]): one period grain and one
    scope of a long mart, so that a plain SUM in a BI tool counts every event once. No new
    rule: the rows of the long mart, filtered. -#}

{#- The rows of `long_model` where `where` holds, with the columns the calling model's yml
    declares (its contract), in that order. -#}
{% macro mart_slice(long_model, where) -%}
    select
        {%- for column in model.columns %}
        {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref(long_model) }}
    where {{ where }}
{%- endmacro %}

{#- One period grain × one scope of kpi_scorecard, with money split from the other values:
    amount KPIs (unit 'amount', e.g. won_amount 受注金額) in the *_amount columns as the money
    type with their currency; counts, rates and ratios in the double columns (null for money). -#}
{% macro scorecard_slice(period_grain, scope_type) -%}
    {%- set is_money = "scorecard.unit = 'amount'" -%}
    {%- set scope_columns = {'team': 'team_id', 'rep': 'rep_id'} -%}
    with scorecard as (
        select * from {{ ref('kpi_scorecard') }}
        where period_grain = '{{ period_grain }}' and scope_type = '{{ scope_type }}'
    ),

    final as (
        select
            scorecard.scorecard_id,
            scorecard.period_start_date,
            scorecard.period_end_date,
            scorecard.as_of_date,
            {%- if scope_type in scope_columns %}
            scorecard.scope_id as {{ scope_columns[scope_type] }},
            {%- endif %}
            scorecard.kpi_code,
            scorecard.kpi_name_ja,
            scorecard.unit,
            scorecard.direction,
            scorecard.numerator,
            scorecard.denominator,
            {%- for column in ['kpi_value', 'target_value', 'expected_to_date', 'landing_forecast', 'gap'] %}
            case when not ({{ is_money }}) then scorecard.{{ column }} end as {{ column }},
            {%- endfor %}
            {%- for column, name in [
                ('kpi_value', 'actual_amount'),
                ('target_value', 'target_amount'),
                ('expected_to_date', 'expected_to_date_amount'),
                ('landing_forecast', 'landing_forecast_amount'),
                ('gap', 'gap_amount'),
            ] %}
            case when {{ is_money }} then cast(scorecard.{{ column }} as {{ type_money() }}) end
                as {{ name }},
            {%- endfor %}
            case when {{ is_money }} then '{{ var("reporting_currency") }}' end as currency,
            scorecard.attainment,
            scorecard.business_days,
            scorecard.business_days_elapsed,
            scorecard.elapsed_share,
            scorecard.pace_ratio,
            scorecard.forecast_method,
            scorecard.status
        from scorecard
    )

    select * from final
{%- endmacro %}
