with source as (
    select * from {{ source('salesforce', 'opportunity_history') }}
),

renamed as (
    select
        {{ crm_text('id') }} as opportunity_history_id,
        {{ crm_text('opportunity_id') }} as opportunity_id,
        {{ crm_text('stage_name') }} as opportunity_stage,
        {{ crm_number('amount') }} as amount,
        {{ crm_date('close_date') }} as close_date,
        {{ crm_text('created_by_id') }} as created_by_id,
        {{ crm_utc_timestamp('created_date') }} as changed_at,
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
