with source as (
    select * from {{ source('hubspot', 'engagement_meeting') }}
),

portal as (
    select
        source.*,
        {{ hubspot_portal_timezone() }} as _portal_timezone
    from source
),

renamed as (
    select
        {{ crm_text('hs_object_id') }} as meeting_id,
        {{ hubspot_timestamp('hs_timestamp') }} as activity_at,
        {{ crm_text('hubspot_owner_id') }} as activity_owner,
        {{ hubspot_timestamp('hs_meeting_start_time') }} as meeting_start_at,
        {{ hubspot_timestamp('hs_meeting_end_time') }} as meeting_end_at,
        {{ crm_text('hs_meeting_outcome') }} as meeting_outcome,
        {{ crm_text('hs_meeting_title') }} as meeting_title,
        {{ crm_text('associated_contact_ids') }} as associated_contact_ids,
        {{ crm_text('associated_company_ids') }} as associated_company_ids,
        {{ crm_text('associated_deal_ids') }} as associated_deal_ids,
        {{ hubspot_unreadable_reason([
            ('hs_timestamp', 'Activity date', 'timestamp'),
        ]) }} as unreadable_value_reason,
        {{ hubspot_unreadable_reason([
            ('hs_meeting_start_time', 'Meeting start time', 'timestamp'),
            ('hs_meeting_end_time', 'Meeting end time', 'timestamp'),
        ]) }} as unreadable_meeting_time_reason,
        coalesce({{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from portal
)

select * from renamed
