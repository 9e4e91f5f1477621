with source as (
    select * from {{ source('salesforce', 'event') }}
),

renamed as (
    select
        {{ crm_text('id') }} as event_id,
        {{ crm_text('owner_id') }} as owner_id,
        {{ crm_text('who_id') }} as who_id,
        {{ crm_text('what_id') }} as what_id,
        {{ crm_text('account_id') }} as account_id,
        {{ crm_text('subject') }} as subject,
        {{ crm_boolean('is_child') }} as is_child,
        {{ crm_boolean('is_all_day_event') }} as is_all_day_event,
        {{ crm_date('activity_date') }} as activity_date,
        {{ crm_utc_timestamp('activity_date_time') }} as activity_date_time_at,
        {{ crm_utc_timestamp('start_date_time') }} as started_at,
        {{ crm_number('duration_in_minutes') }} as duration_minutes,
        {{ crm_utc_timestamp('created_date') }} as created_at,
        coalesce({{ crm_boolean('is_deleted') }}, {{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        {{ crm_utc_timestamp('system_modstamp') }} as system_modstamp_at,
        {{ crm_unreadable_reason([
            ('activity_date', 'ActivityDate', 'date'),
            ('start_date_time', 'StartDateTime', 'date-time'),
            ('activity_date_time', 'ActivityDateTime', 'date-time'),
            ('duration_in_minutes', 'DurationInMinutes', 'number'),
        ]) }} as unreadable_value_reason,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from source
)

select * from renamed
