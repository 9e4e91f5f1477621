with source as (
    select * from {{ source('canonical', 'agencies') }}
),

cleaned as (
    {{ canonical_agencies('source') }}
)

select * from cleaned
