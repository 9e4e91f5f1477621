-- Lead sources declared beyond the seed lead_source_channels (a mapping's `lead_sources:` or a
-- canonical lead_sources.csv). Codes are lower-cased like leads.lead_source and spend.channel,
-- so the keys are compared after lowering; the row from the latest landing file wins.
with source as (
    select
        *,
        lower(lead_source) as lead_source_key
    from {{ source('canonical', 'lead_sources') }}
),

deduplicated as (
    {{ deduplicate('source', 'lead_source_key', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        lead_source_key as lead_source,
        lower(channel) as channel,
        {{ neutralised_text('lead_source_name_ja') }} as lead_source_name_ja,
        {{ neutralised_text('channel_name_ja') }} as channel_name_ja,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
