-- Lead sources mapped to channels by the seed lead_source_channels and by the declared lead
-- sources (stg_canonical__lead_sources: a mapping's `lead_sources:` or a canonical
-- lead_sources.csv). A declared lead source overrides the seed row of the same name; its names
-- fall back to the seed's (the lead source's, else its channel's) and then to the code.
-- Sources found in the data but declared nowhere appear with channel 'unmapped' (a warning
-- test reports them).
with seeded as (
    select * from {{ ref('lead_source_channels') }}
),

declared as (
    select * from {{ ref('stg_canonical__lead_sources') }}
),

seed_channel_names as (
    select
        channel,
        min(channel_name_ja) as channel_name_ja
    from seeded
    group by channel
),

declared_named as (
    select
        declared.lead_source,
        coalesce(
            declared.lead_source_name_ja, seeded.lead_source_name_ja, declared.lead_source
        ) as lead_source_name_ja,
        declared.channel,
        coalesce(
            declared.channel_name_ja, seed_channel_names.channel_name_ja, declared.channel
        ) as channel_name_ja
    from declared
    left join seeded
        on declared.lead_source = seeded.lead_source
    left join seed_channel_names
        on declared.channel = seed_channel_names.channel
),

mapped as (
    select
        lead_source,
        lead_source_name_ja,
        channel,
        channel_name_ja
    from declared_named
    union all
    select
        seeded.lead_source,
        seeded.lead_source_name_ja,
        seeded.channel,
        seeded.channel_name_ja
    from seeded
    left join declared
        on seeded.lead_source = declared.lead_source
    where declared.lead_source is null
),

observed as (
    select distinct lead_source from {{ ref('int_canonical__leads') }}
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
