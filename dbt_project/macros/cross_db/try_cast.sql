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
    {%- set types = postgres_try_cast_types() -%}
    {%- if data_type not in types -%}
        {{ exceptions.raise_compiler_error(
            "try_cast to " ~ data_type ~ " is not supported on Postgres (add it to postgres_try_cast_types)") }}
    {%- endif -%}
    {#- The function's result loses the type's modifiers (a decimal's scale): cast again. -#}
    cast({{ target.schema }}.sales_kpi_try_cast__{{ types[data_type][0] }}(cast({{ expression }} as text))
        as {{ data_type }})
{%- endmacro %}

{% macro spark__try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
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
