{#- The segment columns of a fct_kpi_daily fact (industry, company_size) and its product, from
    the account behind it (`account_id`; `accounts`: the joined dim_accounts) and its product
    expression: 'n/a' when the fact has no account (rep-days, facts on no account) or no
    product, 'unknown' when the account has no value. -#}
{% macro kpi_daily_segment_columns(account_id, accounts, product) -%}
    {%- for column, attribute in [('industry', 'industry'), ('company_size', 'employee_band')] %}
        case
            when {{ account_id }} is null then 'n/a' else coalesce({{ accounts }}.{{ attribute }}, 'unknown')
        end as {{ column }},
    {%- endfor %}
        coalesce({{ product }}, 'n/a') as product
{%- endmacro %}
