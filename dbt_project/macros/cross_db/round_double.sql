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
