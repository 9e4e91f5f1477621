with source as (
    select * from {{ source('salesforce', 'contact') }}
),

renamed as (
    select
        {{ crm_text('id') }} as contact_id,
        {{ crm_text('account_id') }} as account_id,
        {{ crm_text('name') }} as contact_name,
        {{ crm_text('first_name') }} as first_name,
        {{ crm_text('last_name') }} as last_name,
        {{ crm_text('email') }} as contact_email,
        {{ crm_text('phone') }} as phone,
        {{ crm_text('mobile_phone') }} as mobile_phone,
        {{ crm_text('title') }} as title,
        {{ crm_utc_timestamp('created_date') }} as created_at,
        coalesce({{ crm_boolean('is_deleted') }}, {{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        {{ crm_utc_timestamp('system_modstamp') }} as system_modstamp_at,
        {{ crm_unreadable_reason([
            ('created_date', 'CreatedDate', 'date-time'),
        ]) }} as unreadable_value_reason,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from source
)

select * from renamed
