with source as (
    select * from {{ source('canonical', 'accounts') }}
),

deduplicated as (
    {{ deduplicate('source', 'account_id', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        account_id,
        account_name,
        corporate_number,
        coalesce(industry, 'unknown') as industry,
        coalesce(employee_band, {{ company_size_band('employee_count') }}, 'unknown') as employee_band,
        employee_count,
        prefecture,
        created_at,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
