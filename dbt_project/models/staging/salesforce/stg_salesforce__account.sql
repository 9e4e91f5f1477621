with source as (
    select * from {{ source('salesforce', 'account') }}
),

renamed as (
    select
        {{ crm_text('id') }} as account_id,
        {{ crm_text('name') }} as account_name,
        {{ crm_text('industry') }} as industry,
        {{ crm_number('number_of_employees') }} as number_of_employees,
        {{ crm_text('billing_state') }} as billing_state,
        {{ crm_text('owner_id') }} as owner_id,
        {{ crm_utc_timestamp('created_date') }} as created_at,
        coalesce({{ crm_boolean('is_deleted') }}, {{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        {{ crm_utc_timestamp('system_modstamp') }} as system_modstamp_at,
        {{ crm_unreadable_reason([
            ('number_of_employees', 'NumberOfEmployees', 'number'),
            ('created_date', 'CreatedDate', 'date-time'),
        ]) }} as unreadable_value_reason,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from source
)

select * from renamed
