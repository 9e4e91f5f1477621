with source as (
    select * from {{ source('salesforce', 'user') }}
),

renamed as (
    select
        {{ crm_text('id') }} as user_id,
        {{ crm_text('name') }} as user_name,
        {{ crm_text('first_name') }} as first_name,
        {{ crm_text('last_name') }} as last_name,
        {{ crm_text('email') }} as user_email,
        {{ crm_text('user_role_id') }} as user_role_id,
        {{ crm_boolean('is_active') }} as is_active,
        {{ crm_utc_timestamp('created_date') }} as created_at,
        coalesce({{ crm_boolean('is_deleted') }}, {{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        {{ crm_utc_timestamp('system_modstamp') }} as system_modstamp_at,
        {{ crm_unreadable_reason([('is_active', 'IsActive', 'boolean')]) }} as unreadable_value_reason,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from source
)

select * from renamed
