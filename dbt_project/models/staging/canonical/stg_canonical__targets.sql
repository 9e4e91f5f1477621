with source as (
    select * from {{ source('canonical', 'targets') }}
),

deduplicated as (
    {{ deduplicate(
        'source',
        'kpi_code, period_grain, period_start_date, scope_type, scope_id, scenario',
        '_source_file desc, _row_number desc'
    ) }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        kpi_code,
        period_grain,
        period_start_date,
        scope_type,
        scope_id,
        target_value,
        upper(currency) as currency,
        scenario,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
