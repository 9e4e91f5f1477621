with source as (
    select * from {{ source('salesforce', 'lead') }}
),

renamed as (
    select
        {{ crm_text('id') }} as lead_id,
        {{ crm_text('owner_id') }} as owner_id,
        {{ crm_text('lead_source') }} as lead_source,
        {{ crm_text('status') }} as lead_status,
        {{ crm_boolean('is_converted') }} as is_converted,
        {{ crm_date('converted_date') }} as converted_date,
        {{ crm_text('converted_account_id') }} as converted_account_id,
        {{ crm_text('converted_contact_id') }} as converted_contact_id,
        {{ crm_text('converted_opportunity_id') }} as converted_opportunity_id,
        {{ crm_utc_timestamp('created_date') }} as created_at,
        coalesce({{ crm_boolean('is_deleted') }}, {{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        {{ crm_utc_timestamp('system_modstamp') }} as system_modstamp_at,
        {{ crm_unreadable_reason([
            ('created_date', 'CreatedDate', 'date-time'),
            ('converted_date', 'ConvertedDate', 'date'),
        ]) }} as unreadable_value_reason,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from source
)

select * from renamed
