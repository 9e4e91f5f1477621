with source as (
    select * from {{ source('salesforce', 'task') }}
),

renamed as (
    select
        {{ crm_text('id') }} as task_id,
        {{ crm_text('owner_id') }} as owner_id,
        {{ crm_text('who_id') }} as who_id,
        {{ crm_text('what_id') }} as what_id,
        {{ crm_text('account_id') }} as account_id,
        {{ crm_text('subject') }} as subject,
        {{ crm_text('task_subtype') }} as task_subtype,
        {{ crm_text('type') }} as task_type,
        {{ crm_text('status') }} as task_status,
        {{ crm_boolean('is_closed') }} as is_closed,
        {{ crm_text('call_disposition') }} as call_disposition,
        {{ crm_number('call_duration_in_seconds') }} as call_duration_seconds,
        {{ crm_date('activity_date') }} as activity_date,
        {{ crm_utc_timestamp('completed_date_time') }} as completed_at,
        {{ crm_utc_timestamp('created_date') }} as created_at,
        coalesce({{ crm_boolean('is_deleted') }}, {{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        {{ crm_utc_timestamp('system_modstamp') }} as system_modstamp_at,
        {{ crm_unreadable_reason([
            ('completed_date_time', 'CompletedDateTime', 'date-time'),
            ('created_date', 'CreatedDate', 'date-time'),
            ('activity_date', 'ActivityDate', 'date'),
            ('call_duration_in_seconds', 'CallDurationInSeconds', 'number'),
        ]) }} as unreadable_value_reason,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from source
)

select * from renamed
