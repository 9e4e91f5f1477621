{{ config(meta={"dagster": {"ref": {"name": "int_money_converted"}}}) }}
-- Amounts that cannot be converted to the reporting currency: add a rate to exchange_rates
-- (rate_date on or before the date shown, from_currency -> the reporting currency), or report
-- in that currency (dbt var reporting_currency; when unset and every amount has one currency,
-- the pipeline uses it: orchestration.assets.transform.resolved_dbt_vars). what_to_do says so.
-- Failing here stops the run instead of publishing marts with silently missing money.
select
    record_type,
    record_id,
    currency,
    rate_date as needs_rate_on_or_before,
    '{{ var("reporting_currency") }}' as reporting_currency,
    {{ dbt.concat([
        "'add a rate '", "currency", "' -> " ~ var("reporting_currency") ~ " dated on or before '",
        "cast(rate_date as " ~ dbt.type_string() ~ ")",
        "' to exchange_rates.csv, or set dbt var reporting_currency in SALES_KPI_DBT_VARS to '",
        "currency", "' if every amount is in it'"
    ]) }} as what_to_do
from {{ ref('int_money_converted') }}
where amount is not null and reporting_rate is null
