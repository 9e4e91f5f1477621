with source as (
    select * from {{ source('canonical', 'leads') }}
),

cleaned as (
    {{ canonical_leads('source') }}
)

select * from cleaned
