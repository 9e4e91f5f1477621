with source as (
    select * from {{ source('canonical', 'satisfaction_surveys') }}
),

deduplicated as (
    {{ deduplicate('source', 'response_id', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        response_id,
        account_id,
        responded_at,
        cast(responded_at as date) as responded_date,
        score,
        max_score,
        survey_name,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
