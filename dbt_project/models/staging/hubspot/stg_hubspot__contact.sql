with source as (
    select * from {{ source('hubspot', 'contact') }}
),

portal as (
    select
        source.*,
        {{ hubspot_portal_timezone() }} as _portal_timezone
    from source
),

renamed as (
    select
        {{ crm_text('hs_object_id') }} as contact_id,
        {{ crm_text('firstname') }} as first_name,
        {{ crm_text('lastname') }} as last_name,
        {{ crm_text('email') }} as contact_email,
        {{ crm_text('phone') }} as phone_number,
        {{ crm_text('jobtitle') }} as job_title,
        {{ hubspot_timestamp('createdate') }} as created_at,
        {{ crm_text('lifecyclestage') }} as lifecycle_stage,
        {{ crm_text('hs_lead_status') }} as lead_status,
        {{ hubspot_timestamp('hs_lifecyclestage_lead_date') }} as became_lead_at,
        {{ hubspot_timestamp('hs_lifecyclestage_opportunity_date') }} as became_opportunity_at,
        {{ crm_text('hs_analytics_source') }} as original_source,
        {{ crm_text('hubspot_owner_id') }} as contact_owner,
        {{ crm_text('associated_company_ids') }} as associated_company_ids,
        {{ crm_text('associated_deal_ids') }} as associated_deal_ids,
        {{ hubspot_unreadable_reason([
            ('createdate', 'Create Date', 'timestamp'),
            ('hs_lifecyclestage_lead_date', 'Became a Lead Date', 'timestamp'),
        ]) }} as unreadable_value_reason,
        {{ hubspot_unreadable_reason([
            ('hs_lifecyclestage_opportunity_date', 'Became an Opportunity Date', 'timestamp'),
        ]) }} as unreadable_opportunity_date_reason,
        coalesce({{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from portal
)

select * from renamed
