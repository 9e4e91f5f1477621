with source as (
    select * from {{ source('salesforce', 'user_role') }}
),

renamed as (
    select
        {{ crm_text('id') }} as user_role_id,
        {{ crm_text('name') }} as user_role_name,
        coalesce({{ crm_boolean('is_deleted') }}, {{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        {{ crm_utc_timestamp('system_modstamp') }} as system_modstamp_at,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from source
)

select * from renamed
