with source as (
    select * from {{ source('canonical', 'opportunities') }}
),

cleaned as (
    {{ canonical_opportunities('source') }}
)

select * from cleaned
