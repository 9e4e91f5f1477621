{{ config(meta={"dagster": {"ref": {"name": "int_money_converted"}}}) }}
-- Amounts that cannot be converted to the reporting currency: add a rate to exchange_rates
-- (rate_date on or before the date shown, from_currency -> the reporting currency).
-- Failing here stops the run instead of publishing marts with silently missing money.
select
    record_type,
    record_id,
    currency,
    rate_date as needs_rate_on_or_before,
    '{{ var("reporting_currency") }}' as reporting_currency
from {{ ref('int_money_converted') }}
where amount is not null and reporting_rate is null
