with source as (
    select * from {{ source('hubspot', 'owner') }}
),

renamed as (
    select
        {{ crm_text('owner_id') }} as owner_id,
        {{ crm_text('first_name') }} as first_name,
        {{ crm_text('last_name') }} as last_name,
        {{ crm_text('email') }} as owner_email,
        {{ crm_text('primary_team_name') }} as team_name,
        {{ crm_boolean('archived') }} as is_archived,
        coalesce({{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from source
)

select * from renamed
