{#- Salesforce dated exchange rates in the canonical exchange_rates entity: the kept rows of
    int_salesforce__exchange_rates_checked. -#}
with

checked as (
    select * from {{ ref('int_salesforce__exchange_rates_checked') }}
),

kept as (
    select
        rate_date,
        from_currency,
        to_currency,
        rate,
        source_system,
        source_file,
        source_row
    from checked
    where rejection_reason is null
)

select * from kept
