with source as (
    select * from {{ source('hubspot', '_config') }}
),

renamed as (
    select
        source_system,
        config_key,
        coalesce(entry_key, '') as entry_key,
        attribute,
        value as config_value,
        _source_file as source_file,
        _loaded_at as loaded_at
    from source
)

select * from renamed
