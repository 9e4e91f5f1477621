{#-
    Rate to the reporting currency (dbt var reporting_currency) for each row of `relation`:
    the latest exchange rate dated on or before `date_column`; 1 for the reporting currency;
    null when no rate exists (rule missing_exchange_rate reports the record).
    Returns a select of (key_column, reporting_rate) to join back on key_column.
-#}
{% macro reporting_rates(relation, key_column, currency_column, date_column) -%}
    {%- set reporting = var('reporting_currency') -%}
    select
        ranked.{{ key_column }},
        ranked.reporting_rate
    from (
        select
            rows_to_convert.{{ key_column }},
            case
                when rows_to_convert.{{ currency_column }} = '{{ reporting }}' then 1.0
                else rates.rate
            end as reporting_rate,
            row_number() over (
                partition by rows_to_convert.{{ key_column }}
                order by rates.rate_date desc, rates.rate desc
            ) as rate_rank
        from {{ relation }} as rows_to_convert
        left join {{ ref('int_canonical__exchange_rates') }} as rates
            on
                rows_to_convert.{{ currency_column }} = rates.from_currency
                and rates.to_currency = '{{ reporting }}'
                and rates.rate_date <= rows_to_convert.{{ date_column }}
    ) as ranked
    where ranked.rate_rank = 1
{%- endmacro %}

{#- The key of a spend row in int_money_converted: month|channel|agency|category. -#}
{% macro spend_record_id(relation_alias) -%}
    {{ dbt.concat([
        "cast(" ~ relation_alias ~ ".spend_month_start_date as " ~ dbt.type_string() ~ ")",
        "'|'",
        relation_alias ~ ".channel",
        "'|'",
        "coalesce(" ~ relation_alias ~ ".agency_id, '')",
        "'|'",
        relation_alias ~ ".spend_category"
    ]) }}
{%- endmacro %}
