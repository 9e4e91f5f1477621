with source as (
    select * from {{ source('hubspot', 'engagement_call') }}
),

portal as (
    select
        source.*,
        {{ hubspot_portal_timezone() }} as _portal_timezone
    from source
),

renamed as (
    select
        {{ crm_text('hs_object_id') }} as call_id,
        {{ hubspot_timestamp('hs_timestamp') }} as activity_at,
        {{ crm_text('hubspot_owner_id') }} as activity_owner,
        {{ crm_text('hs_call_disposition') }} as call_outcome,
        {{ hubspot_duration_seconds('hs_call_duration') }} as call_duration_seconds,
        {{ crm_text('hs_call_title') }} as call_title,
        {{ crm_text('associated_contact_ids') }} as associated_contact_ids,
        {{ crm_text('associated_company_ids') }} as associated_company_ids,
        {{ crm_text('associated_deal_ids') }} as associated_deal_ids,
        {{ hubspot_unreadable_reason([
            ('hs_timestamp', 'Activity date', 'timestamp'),
            ('hs_call_duration', 'Call duration', 'duration'),
        ]) }} as unreadable_value_reason,
        coalesce({{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from portal
)

select * from renamed
