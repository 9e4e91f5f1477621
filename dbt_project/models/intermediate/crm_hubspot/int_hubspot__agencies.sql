{#- Agencies (営業代行) from source.yml `agencies`: id -> name, or -> {name, fee_model}. Their
    lineage is `source.yml#agencies` (as the HubSpot converter writes it) and the entry's
    position; the landed config keeps no order, so the position is that of the id among the ids
    sorted. -#}
with

config as (
    select * from {{ ref('stg_hubspot__config') }}
    where config_key = 'agencies'
),

-- An entry is a name (no attribute) or a mapping with name (or agency_name) and fee_model.
agency_entries as (
    select
        source_system,
        entry_key,
        max(case when attribute is null then config_value end) as plain_name,
        max(case when attribute = 'name' then config_value end) as entry_name,
        max(case when attribute = 'agency_name' then config_value end) as entry_agency_name,
        max(case when attribute = 'fee_model' then config_value end) as fee_model
    from config
    group by source_system, entry_key
),

agencies as (
    select
        {{ crm_namespaced('source_system', 'entry_key') }} as agency_id,
        coalesce(entry_name, entry_agency_name, plain_name, entry_key) as agency_name,
        fee_model,
        source_system,
        'source.yml#agencies' as source_file,
        cast(row_number() over (
            partition by source_system order by entry_key
        ) as {{ dbt.type_bigint() }}) as source_row
    from agency_entries
)

select * from agencies
