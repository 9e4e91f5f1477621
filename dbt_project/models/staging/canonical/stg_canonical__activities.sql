-- The free-text subject may hold personal data and is not carried past staging.
with source as (
    select * from {{ source('canonical', 'activities') }}
),

cleaned as (
    {{ canonical_activities('source') }}
)

select * from cleaned
