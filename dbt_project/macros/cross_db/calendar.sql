{#- ISO day of week: 1 = Monday ... 7 = Sunday. -#}
{% macro iso_day_of_week(date_expression) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'sales_kpi')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_expression) -%}
    cast(extract(isodow from {{ date_expression }}) as integer)
{%- endmacro %}

{% macro spark__iso_day_of_week(date_expression) -%}
    (pmod(dayofweek({{ date_expression }}) + 5, 7) + 1)
{%- endmacro %}

{#- ISO week number (1-53) and ISO week-numbering year. -#}
{% macro iso_week(date_expression) -%}
    {{ return(adapter.dispatch('iso_week', 'sales_kpi')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_week(date_expression) -%}
    cast(extract(week from {{ date_expression }}) as integer)
{%- endmacro %}

{% macro spark__iso_week(date_expression) -%}
    weekofyear({{ date_expression }})
{%- endmacro %}

{% macro iso_year(date_expression) -%}
    {{ return(adapter.dispatch('iso_year', 'sales_kpi')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_year(date_expression) -%}
    cast(extract(isoyear from {{ date_expression }}) as integer)
{%- endmacro %}

{% macro spark__iso_year(date_expression) -%}
    year(date_add({{ date_expression }}, 4 - (pmod(dayofweek({{ date_expression }}) + 5, 7) + 1)))
{%- endmacro %}

{#- The date the marts are computed for: var('as_of_date') when set (by hand, or in
    SALES_KPI_DBT_VARS); else SALES_KPI_BUILD_AS_OF_DATE, the date the pipeline resolved for the
    run (orchestration/lib/run_inputs.py); else the build date.
    The pipeline's date is an environment variable read only when SQL is compiled (`execute`),
    not a var: dbt parses the whole project again when a var changes (~6 CPU-s), and the date
    changes every night. -#}
{% macro as_of_date() -%}
    {%- set pinned = var('as_of_date', none) -%}
    {%- if not pinned and execute -%}
        {%- set pinned = env_var('SALES_KPI_BUILD_AS_OF_DATE', '') -%}
    {%- endif -%}
    {%- if pinned -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', pinned | string) -%}
            {{ exceptions.raise_compiler_error("as_of_date must be a date YYYY-MM-DD, got '" ~ pinned ~ "'") }}
        {%- endif -%}
        cast('{{ pinned }}' as date)
    {%- else -%}
        cast({{ dbt.current_timestamp() }} as date)
    {%- endif -%}
{%- endmacro %}
