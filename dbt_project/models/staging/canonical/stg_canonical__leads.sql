with source as (
    select * from {{ source('canonical', 'leads') }}
),

deduplicated as (
    {{ deduplicate('source', 'lead_id', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        lead_id,
        created_at,
        -- An empty origin is a lead source of its own, never a reason to drop the lead.
        coalesce({{ neutralised_text('lower(lead_source)') }}, 'unknown') as lead_source,
        lead_status,
        owner_id,
        agency_id,
        account_id,
        contact_id,
        {{ plausible_date('converted_at', 'event') }} as converted_at,
        converted_opportunity_id,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
