with source as (
    select * from {{ source('canonical', 'opportunity_stage_history') }}
),

cleaned as (
    {{ canonical_opportunity_stage_history('source') }}
)

select * from cleaned
