{#- `left.c1 = right.c1 and left.c2 = right.c2 ...` for a join on a composite key. -#}
{% macro join_on(left, right, columns) -%}
    {%- for column in columns -%}
        {{ left }}.{{ column }} = {{ right }}.{{ column }}{% if not loop.last %} and {% endif %}
    {%- endfor -%}
{%- endmacro %}
