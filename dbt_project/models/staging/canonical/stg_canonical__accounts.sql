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
        {{ neutralised_text('account_name') }} as account_name,
        corporate_number,
        coalesce({{ neutralised_text('industry') }}, 'unknown') as industry,
        coalesce({{ neutralised_text('employee_band') }}, {{ company_size_band('employee_count') }}, 'unknown') as employee_band,
        employee_count,
        {{ neutralised_text('prefecture') }} as prefecture,
        created_at,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
