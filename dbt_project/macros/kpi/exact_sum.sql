{#- The sum of a numeric expression, exact and the same on every run: each value is fixed to 9
    decimals and summed as a decimal (a sum of doubles depends on the order the engine adds
    them in, which varies between runs), then returned as a double. -#}
{% macro exact_sum(expression) -%}
    cast(sum(cast({{ expression }} as decimal(38, 9))) as {{ type_double() }})
{%- endmacro %}
