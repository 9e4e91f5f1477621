{#- Cast that yields null instead of failing (dbt.safe_cast is a plain cast on DuckDB). -#}
{% macro try_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('try_cast', 'sales_kpi')(expression, data_type)) }}
{%- endmacro %}

{% macro default__try_cast(expression, data_type) -%}
    cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{% macro duckdb__try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{#- Postgres: the function the on-run-start hook creates (macros/cross_db/engine_functions.sql). -#}
{% macro postgres__try_cast(expression, data_type) -%}
    {%- set types = try_cast_guards() -%}
    {%- if data_type not in types -%}
        {{ exceptions.raise_compiler_error(
            "try_cast to " ~ data_type ~ " is not supported on Postgres (add it to try_cast_guards)") }}
    {%- endif -%}
    {#- The function's result loses the type's modifiers (a decimal's scale): cast again. -#}
    cast({{ target.schema }}.sales_kpi_try_cast__{{ types[data_type][0] }}(cast({{ expression }} as text))
        as {{ data_type }})
{%- endmacro %}

{#- Spark: its try_cast reads more than DuckDB's ('2025' as a date) and less ('2025/08/31'):
    the same guards as Postgres, then '/' read as '-'. -#}
{% macro spark__try_cast(expression, data_type) -%}
    {%- set types = try_cast_guards() -%}
    {%- if data_type not in types -%}
        {{ exceptions.raise_compiler_error(
            "try_cast to " ~ data_type ~ " is not supported on Spark (add it to try_cast_guards)") }}
    {%- endif -%}
    {%- set value = 'cast(' ~ expression ~ ' as string)' -%}
    case when {{ value }} rlike r'{{ types[data_type][1] }}' then
        {%- if data_type in ('date', 'timestamp', 'timestamptz') %}
        try_cast(replace(trim({{ value }}), '/', '-') as {{ 'date' if data_type == 'date' else 'timestamp' }})
        {%- else %}
        try_cast(trim({{ value }}) as {{ data_type }})
        {%- endif %}
    end
{%- endmacro %}

{#- An 8-byte floating point type (dbt.type_float() is 4 bytes on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'sales_kpi')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
