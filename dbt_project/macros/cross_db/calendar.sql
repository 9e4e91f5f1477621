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

{#- The date the marts are computed for: var('as_of_date') or the build date. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', none) -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        cast({{ dbt.current_timestamp() }} as date)
    {%- endif -%}
{%- endmacro %}
