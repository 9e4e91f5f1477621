with source as (
    select * from {{ source('salesforce', 'dated_conversion_rate') }}
),

renamed as (
    select
        {{ crm_text('id') }} as dated_conversion_rate_id,
        {{ crm_text('iso_code') }} as currency,
        {{ crm_number('conversion_rate') }} as conversion_rate,
        {{ crm_date('start_date') }} as start_date,
        {{ crm_date('next_start_date') }} as next_start_date,
        {{ crm_utc_timestamp('system_modstamp') }} as system_modstamp_at,
        {{ crm_unreadable_reason([
            ('conversion_rate', 'ConversionRate', 'number'),
            ('start_date', 'StartDate', 'date'),
        ]) }} as unreadable_value_reason,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from source
)

select * from renamed
