-- One row per outsourced agency plus the row 'in_house' for the company's own staff.
with agencies as (
    select * from {{ ref('int_canonical__agencies') }}
),

in_house as (
    select
        'in_house' as agency_key,
        cast(null as {{ dbt.type_string() }}) as agency_id,
        '自社' as agency_name,
        cast(null as {{ dbt.type_string() }}) as fee_model,
        false as is_outsourced
),

outsourced as (
    select
        agency_id as agency_key,
        agency_id,
        agency_name,
        fee_model,
        true as is_outsourced
    from agencies
),

final as (
    select * from in_house
    union all
    select * from outsourced
)

select * from final
