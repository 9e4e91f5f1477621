-- Lead sources mapped to channels by the seed lead_source_channels; sources found in the data
-- but missing from the seed appear with channel 'unmapped' (a warning test reports them).
with mapped as (
    select * from {{ ref('lead_source_channels') }}
),

observed as (
    select distinct lead_source from {{ ref('stg_canonical__leads') }}
),

unmapped as (
    select
        observed.lead_source,
        observed.lead_source as lead_source_name_ja,
        'unmapped' as channel,
        '未分類' as channel_name_ja
    from observed
    left join mapped
        on observed.lead_source = mapped.lead_source
    where mapped.lead_source is null
),

final as (
    select
        lead_source,
        lead_source_name_ja,
        channel,
        channel_name_ja,
        true as is_mapped
    from mapped
    union all
    select
        lead_source,
        lead_source_name_ja,
        channel,
        channel_name_ja,
        false as is_mapped
    from unmapped
)

select * from final
