with source as (
    select * from {{ source('salesforce', 'opportunity') }}
),

renamed as (
    select
        {{ crm_text('id') }} as opportunity_id,
        {{ crm_text('account_id') }} as account_id,
        {{ crm_text('owner_id') }} as owner_id,
        {{ crm_text('stage_name') }} as opportunity_stage,
        {{ crm_number('amount') }} as amount,
        {{ crm_text('currency_iso_code') }} as currency,
        {{ crm_text('type') }} as opportunity_type,
        {{ crm_date('close_date') }} as close_date,
        {{ crm_boolean('is_closed') }} as is_closed,
        {{ crm_boolean('is_won') }} as is_won,
        {{ crm_utc_timestamp('created_date') }} as created_at,
        coalesce({{ crm_boolean('is_deleted') }}, {{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        {{ crm_utc_timestamp('system_modstamp') }} as system_modstamp_at,
        {{ crm_unreadable_reason([
            ('created_date', 'CreatedDate', 'date-time'),
            ('close_date', 'CloseDate', 'date'),
            ('amount', 'Amount', 'number'),
            ('is_closed', 'IsClosed', 'boolean'),
            ('is_won', 'IsWon', 'boolean'),
        ]) }} as unreadable_value_reason,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from source
)

select * from renamed
