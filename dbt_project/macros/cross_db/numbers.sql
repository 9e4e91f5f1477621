{#- round(x, digits) of a double (Postgres rounds only numerics: through numeric and back). -#}
{% macro round_double(expression, digits) -%}
    {{ return(adapter.dispatch('round_double', 'sales_kpi')(expression, digits)) }}
{%- endmacro %}

{% macro default__round_double(expression, digits) -%}
    round({{ expression }}, {{ digits }})
{%- endmacro %}

{% macro postgres__round_double(expression, digits) -%}
    cast(round(cast({{ expression }} as numeric), {{ digits }}) as {{ type_double() }})
{%- endmacro %}

{#- A number truncated toward zero (Spark's trunc is for dates only). -#}
{% macro trunc_number(expression) -%}
    {{ return(adapter.dispatch('trunc_number', 'sales_kpi')(expression)) }}
{%- endmacro %}

{% macro default__trunc_number(expression) -%}
    trunc({{ expression }})
{%- endmacro %}

{% macro spark__trunc_number(expression) -%}
    (case when {{ expression }} >= 0 then floor({{ expression }}) else ceil({{ expression }}) end)
{%- endmacro %}
