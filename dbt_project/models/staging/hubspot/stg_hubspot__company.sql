with source as (
    select * from {{ source('hubspot', 'company') }}
),

portal as (
    select
        source.*,
        {{ hubspot_portal_timezone() }} as _portal_timezone
    from source
),

renamed as (
    select
        {{ crm_text('hs_object_id') }} as company_id,
        {{ crm_text('name') }} as company_name,
        {{ crm_text('industry') }} as industry,
        {{ hubspot_number('numberofemployees') }} as number_of_employees,
        {{ crm_text('state') }} as state_region,
        {{ hubspot_timestamp('createdate') }} as created_at,
        {{ hubspot_unreadable_reason([
            ('numberofemployees', 'Number of Employees', 'number'),
            ('createdate', 'Create Date', 'timestamp'),
        ]) }} as unreadable_value_reason,
        coalesce({{ crm_boolean('_fivetran_deleted') }}, false) as is_deleted,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        _loaded_at as loaded_at
    from portal
)

select * from renamed
