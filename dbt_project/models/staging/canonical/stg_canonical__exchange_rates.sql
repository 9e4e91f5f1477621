with source as (
    select * from {{ source('canonical', 'exchange_rates') }}
),

cleaned as (
    {{ canonical_exchange_rates('source') }}
)

select * from cleaned
