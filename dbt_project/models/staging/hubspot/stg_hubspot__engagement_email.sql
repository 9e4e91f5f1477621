with source as (
    select * from {{ source('hubspot', 'engagement_email') }}
),

portal as (
    select
        source.*,
        {{ hubspot_portal_timezone() }} as _portal_timezone
    from source
),

renamed as (
    select
        {{ crm_text('hs_object_id') }} as email_id,
        {{ hubspot_timestamp('hs_timestamp') }} as activity_at,
        {{ crm_text('hubspot_owner_id') }} as activity_owner,
        {{ crm_text('hs_email_subject') }} as email_subject,
        {{ hubspot_number('hs_email_open_count') }} as email_open_count,
        {{ crm_text('hs_email_status') }} as email_status,
        {{ crm_text('hs_email_direction') }} as email_direction,
        {{ crm_text('associated_contact_ids') }} as associated_contact_ids,
        {{ crm_text('associated_company_ids') }} as associated_company_ids,
        {{ crm_text('associated_deal_ids') }} as associated_deal_ids,
        {{ hubspot_unreadable_reason([
            ('hs_timestamp', 'Activity date', 'timestamp'),
            ('hs_email_open_count', 'Email open count', 'number'),
        ]) }} as unreadable_value_reason,
        coalesce({{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from portal
)

select * from renamed
