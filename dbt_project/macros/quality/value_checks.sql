{#- Values that cannot be true. Staging applies the *_value macros (an implausible date or a
    negative amount becomes unknown, a formula is neutralised); int_value_defects applies the
    is_* conditions to the raw rows staging kept and reports each one (data_quality_issues). -#}

{#- The plausible window of a date: from dbt var plausible_start_date (1990-01-01) to the as-of
    date plus a horizon: 'event' (something that has happened: a creation, an activity, a
    conversion) dbt var plausible_event_days_after_as_of (7) days; 'plan' (an expected close
    date) dbt var plausible_plan_years_after_as_of (5) years. -#}
{% macro is_implausible_date(expression, horizon) -%}
    {%- if horizon == 'event' -%}
        {%- set last_day = dbt.dateadd('day', var('plausible_event_days_after_as_of') | int, as_of_date()) -%}
    {%- elif horizon == 'plan' -%}
        {%- set last_day = dbt.dateadd('year', var('plausible_plan_years_after_as_of') | int, as_of_date()) -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("is_implausible_date: horizon must be 'event' or 'plan'") }}
    {%- endif -%}
    (
        {{ expression }} is not null
        and (
            cast({{ expression }} as date) < cast('{{ var("plausible_start_date") }}' as date)
            or cast({{ expression }} as date) > cast({{ last_day }} as date)
        )
    )
{%- endmacro %}

{#- The date, or null (unknown) when it is outside the plausible window. -#}
{% macro plausible_date(expression, horizon) -%}
    case when not {{ is_implausible_date(expression, horizon) }} then {{ expression }} end
{%- endmacro %}

{#- The number, or null (unknown) when it is negative (an amount, a duration). -#}
{% macro non_negative_value(expression) -%}
    case when {{ expression }} >= 0 then {{ expression }} end
{%- endmacro %}

{#- Text a spreadsheet would execute as a formula when a BI user exports a mart to CSV or Excel:
    it starts with =, +, -, @, a tab or a carriage return and has more after it (OWASP, CSV
    injection; a lone '-' is a common placeholder and runs nothing). -#}
{% macro is_spreadsheet_formula(expression) -%}
    {{ return(adapter.dispatch('is_spreadsheet_formula', 'sales_kpi')(expression)) }}
{%- endmacro %}

{% macro default__is_spreadsheet_formula(expression) -%}
    (
        {{ dbt.length(expression) }} > 1
        and substr({{ expression }}, 1, 1) in ('=', '+', '-', '@', chr(9), chr(13))
    )
{%- endmacro %}

{#- The text, prefixed with a single quote when a spreadsheet would execute it (OWASP advice):
    '=HYPERLINK(...) is shown as text, never run. -#}
{% macro neutralised_text(expression) -%}
    case
        when {{ is_spreadsheet_formula(expression) }} then {{ dbt.concat(["''''", expression]) }}
        else {{ expression }}
    end
{%- endmacro %}

{#- True when `relation` (a CTE or table) holds a row: the "was this entity exported at all"
    guard of the unknown-reference rules. A count, not `exists (select 1 from ...)`: DuckDB
    2.0.0 stops forever (every worker idle) on a CTE read both by an uncorrelated EXISTS and by
    a correlated NOT EXISTS, as int_opportunity_defects did at 10M activities. -#}
{% macro has_rows(relation) -%}
    (select count(*) from {{ relation }}) > 0
{%- endmacro %}
