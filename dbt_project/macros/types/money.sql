{#- The one money type of the marts, a decimal with a fixed scale: dbt var money_data_type
    (decimal(18,2)). Contracts declare it as data_type "{{ var('money_data_type') }}" (a yml
    file cannot call a macro), SQL casts with type_money(). -#}
{% macro type_money() -%}
    {{ return(adapter.dispatch('type_money', 'sales_kpi')()) }}
{%- endmacro %}

{% macro default__type_money() -%}
    {{ var('money_data_type') }}
{%- endmacro %}
