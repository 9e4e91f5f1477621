{#- Every DatedConversionRate row with the rate it gives and the reason it is rejected (null:
    kept). Salesforce stores IsoCode units per unit of the corporate currency; the canonical rate
    is corporate units per IsoCode unit: 1 / ConversionRate, to 6 decimals (half up). -#}
with

rates as (
    select * from {{ ref('stg_salesforce__dated_conversion_rate') }}
),

config as (
    select * from {{ ref('stg_salesforce__config') }}
),

-- source.yml corporate_currency (default JPY): the to_currency of every rate. The corporate
-- currency's own row (ConversionRate 1) is kept as a rate of 1.
corporate_currency as (
    select
        source_system,
        max(config_value) as corporate_currency
    from config
    where config_key = 'corporate_currency'
    group by source_system
),

checked as (
    select
        rates.start_date as rate_date,
        upper(rates.currency) as from_currency,
        coalesce(corporate_currency.corporate_currency, 'JPY') as to_currency,
        case
            when rates.conversion_rate > 0
                then cast(round(1 / rates.conversion_rate, 6) as decimal(18, 6))
        end as rate,
        case
            when rates.unreadable_value_reason is not null then rates.unreadable_value_reason
            when rates.conversion_rate is null or rates.conversion_rate <= 0
                then 'ConversionRate must be a positive number'
            when rates.start_date is null then 'StartDate is empty (rate_date is required)'
            when rates.currency is null then 'IsoCode is empty (from_currency is required)'
        end as rejection_reason,
        rates.source_system,
        rates.source_file,
        rates.source_row
    from rates
    left join corporate_currency
        on rates.source_system = corporate_currency.source_system
)

select * from checked
