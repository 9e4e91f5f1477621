{#- Every Lead row with its canonical values and the reason it is rejected (null: kept). The
    Salesforce lead rules (docs: salesforce_rules). -#}
with

leads as (
    select * from {{ ref('stg_salesforce__lead') }}
),

-- The CreatedDate of each live opportunity and contact (the last row of an id repeated).
opportunities as (
    select
        source_system,
        opportunity_id,
        created_at
    from (
        select
            *,
            row_number() over (
                partition by source_system, opportunity_id order by source_row desc
            ) as row_from_last
        from {{ ref('stg_salesforce__opportunity') }}
        where not is_deleted
    ) as numbered
    where row_from_last = 1
),

contacts as (
    select
        source_system,
        contact_id,
        created_at
    from (
        select
            *,
            row_number() over (
                partition by source_system, contact_id order by source_row desc
            ) as row_from_last
        from {{ ref('stg_salesforce__contact') }}
        where not is_deleted
    ) as numbered
    where row_from_last = 1
),

users as (
    select * from {{ ref('int_salesforce__users') }}
),

config as (
    select * from {{ ref('stg_salesforce__config') }}
),

custom_fields as (
    select * from {{ ref('stg_salesforce__custom_field_values') }}
    where config_key = 'lead_agency_field'
),

-- source.yml lead_source_map: LeadSource -> canonical lead_source (the key "" maps an empty
-- LeadSource). An unmapped value is kept as it is (dbt flags it unmapped_lead_source later).
lead_source_map as (
    select
        source_system,
        entry_key as lead_source,
        config_value as mapped_lead_source
    from config
    where config_key = 'lead_source_map'
),

-- Lead.Status -> open|working|converted|disqualified: the defaults
-- (DEFAULT_LEAD_STATUS_MAP), overridden entry by entry by source.yml lead_status_map.
default_lead_status_map as (
    select
        'Closed - Converted' as lead_status,
        'converted' as mapped_lead_status
    union all
    select
        'Closed - Not Converted' as lead_status,
        'disqualified' as mapped_lead_status
    union all
    select
        'Unqualified' as lead_status,
        'disqualified' as mapped_lead_status
    union all
    select
        'Working - Contacted' as lead_status,
        'working' as mapped_lead_status
),

configured_lead_status_map as (
    select
        source_system,
        entry_key as lead_status,
        config_value as mapped_lead_status
    from config
    where config_key = 'lead_status_map'
),

-- converted_at: ConvertedDate is a date; the converted opportunity's (else contact's)
-- CreatedDate gives the time when it falls on that date, else 00:00:00.
with_conversion_time as (
    select
        leads.*,
        case
            when leads.converted_date is null then null
            when cast(opportunities.created_at as date) = leads.converted_date
                then opportunities.created_at
            when cast(contacts.created_at as date) = leads.converted_date
                then contacts.created_at
            else cast(leads.converted_date as timestamp)
        end as converted_at
    from leads
    left join opportunities
        on leads.source_system = opportunities.source_system
            and leads.converted_opportunity_id = opportunities.opportunity_id
    left join contacts
        on leads.source_system = contacts.source_system
            and leads.converted_contact_id = contacts.contact_id
),

mapped as (
    select
        leads.*,
        coalesce(lead_source_map.mapped_lead_source, leads.lead_source) as mapped_lead_source,
        -- IsConverted = true is always converted; then the status map; anything else open.
        case
            when leads.is_converted then 'converted'
            else coalesce(
                    configured_lead_status_map.mapped_lead_status,
                    default_lead_status_map.mapped_lead_status,
                    'open'
                )
        end as mapped_lead_status,
        {{ crm_namespaced('leads.source_system', 'leads.owner_id') }} as owner_user_id,
        {{ crm_namespaced('leads.source_system', 'custom_fields.field_value') }}
            as field_agency_id
    from with_conversion_time as leads
    left join lead_source_map
        on leads.source_system = lead_source_map.source_system
            and coalesce(leads.lead_source, '') = lead_source_map.lead_source
    left join configured_lead_status_map
        on leads.source_system = configured_lead_status_map.source_system
            and coalesce(leads.lead_status, '') = configured_lead_status_map.lead_status
    left join default_lead_status_map
        on coalesce(leads.lead_status, '') = default_lead_status_map.lead_status
    left join custom_fields
        on leads.source_system = custom_fields.source_system
            and leads.source_file = custom_fields.source_file
            and leads.source_row = custom_fields.source_row
),

-- The agency: source.yml lead_agency_field when set and filled, else the owner's agency.
checked as (
    select
        {{ crm_namespaced('mapped.source_system', 'mapped.lead_id') }} as lead_id,
        mapped.created_at,
        mapped.mapped_lead_source as lead_source,
        mapped.mapped_lead_status as lead_status,
        mapped.owner_user_id as owner_id,
        coalesce(mapped.field_agency_id, users.agency_id) as agency_id,
        {{ crm_namespaced('mapped.source_system', 'mapped.converted_account_id') }}
            as account_id,
        {{ crm_namespaced('mapped.source_system', 'mapped.converted_contact_id') }}
            as contact_id,
        mapped.converted_at,
        {{ crm_namespaced('mapped.source_system', 'mapped.converted_opportunity_id') }}
            as converted_opportunity_id,
        case
            when mapped.is_deleted
                then 'deleted in Salesforce (IsDeleted or _fivetran_deleted = true)'
            when mapped.unreadable_value_reason is not null
                then mapped.unreadable_value_reason
            when mapped.created_at is null
                then 'CreatedDate is empty (created_at is required)'
            -- A status map entry that names no canonical status (a typo in source.yml).
            when mapped.mapped_lead_status not in ('open', 'working', 'converted', 'disqualified')
                then 'Status ''' || coalesce(mapped.lead_status, '') || ''' maps to '''
                    || mapped.mapped_lead_status || ''' in source.yml lead_status_map, not one '
                    || 'of open, working, converted, disqualified'
        end as rejection_reason,
        mapped.source_system,
        mapped.source_file,
        mapped.source_row
    from mapped
    left join users
        on mapped.owner_user_id = users.user_id
)

select * from checked
