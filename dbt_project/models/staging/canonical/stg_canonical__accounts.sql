with source as (
    select * from {{ source('canonical', 'accounts') }}
),

cleaned as (
    {{ canonical_accounts('source') }}
)

select * from cleaned
