{#- A segment attribute (industry, company size) of the account behind a fct_kpi_daily fact:
    'n/a' when the fact has no account (rep-days, facts on no account), 'unknown' when the
    account has no value for it. -#}
{% macro kpi_daily_segment(account_id, attribute) -%}
    case when {{ account_id }} is null then 'n/a' else coalesce({{ attribute }}, 'unknown') end
{%- endmacro %}
