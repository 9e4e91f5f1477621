with source as (
    select * from {{ source('canonical', 'leads') }}
),

deduplicated as (
    {{ deduplicate('source', 'lead_id', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        lead_id,
        created_at,
        lower(lead_source) as lead_source,
        lead_status,
        owner_id,
        agency_id,
        account_id,
        contact_id,
        converted_at,
        converted_opportunity_id,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
