with source as (
    select * from {{ source('reference', 'jp_public_holidays') }}
),

final as (
    select
        holiday_date,
        holiday_name
    from source
)

select * from final
