with source as (
    select * from {{ source('hubspot', 'deal') }}
),

portal as (
    select
        source.*,
        {{ hubspot_portal_timezone() }} as _portal_timezone
    from source
),

renamed as (
    select
        {{ crm_text('hs_object_id') }} as deal_id,
        {{ crm_text('dealstage') }} as deal_stage,
        {{ crm_text('pipeline') }} as deal_pipeline,
        {{ hubspot_number('amount') }} as amount,
        {{ crm_text('deal_currency_code') }} as currency,
        {{ hubspot_timestamp('createdate') }} as created_at,
        {{ hubspot_date('closedate') }} as close_date,
        {{ crm_text('hubspot_owner_id') }} as deal_owner,
        {{ crm_text('dealtype') }} as deal_type,
        {{ crm_text('closed_lost_reason') }} as closed_lost_reason,
        {{ crm_text('associated_company_ids') }} as associated_company_ids,
        {{ crm_text('associated_contact_ids') }} as associated_contact_ids,
        {{ hubspot_unreadable_reason([
            ('createdate', 'Create Date', 'timestamp'),
            ('closedate', 'Close Date', 'date'),
            ('amount', 'Amount', 'number'),
        ]) }} as unreadable_value_reason,
        coalesce({{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from portal
)

select * from renamed
