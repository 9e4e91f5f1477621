{#- Every contact row with its canonical contact values, its lead values when the contact is a
    lead, and the reason it is rejected (null: kept). A HubSpot lead is a contact (leads and
    contacts share ids), so one contact row gives a contact and, when it is a lead, a lead. The
    rules of orchestration/sources/hubspot.py (_contact_row, _lead, _lead_status,
    _lead_source, _lead_agency):

    - lead status: `converted` when the lifecycle stage maps to converted; else "Lead Status"
      through source.yml lead_status_map over the defaults (LEAD_STATUS); else the lifecycle
      stage through lead_status_map over the defaults (LIFECYCLE_STATUS); else `open`;
    - a converted lead points at the contact's first deal (int_hubspot__deal_contact_links);
      converted_at is "Became an Opportunity Date", else that deal's Create Date;
    - created_at is "Became a Lead Date", else the contact's Create Date;
    - lead source: "Original Source" through lead_source_map (a value missing from it is kept as
      it is; dbt flags it `unmapped_lead_source`);
    - agency: the agency_property value (an agency id or name of source.yml agencies), else the
      owner's agency.

    Where the former Python converter stopped the whole run with a mapping error (a lead status, lifecycle stage
    or agency missing from its map), this model rejects the row with a reason naming the value
    and the map. -#}
{%- set lifecycle_status = {
    'subscriber': 'open',
    'lead': 'open',
    'marketingqualifiedlead': 'open',
    'salesqualifiedlead': 'working',
    'opportunity': 'converted',
    'customer': 'converted',
    'evangelist': 'converted',
    'other': 'open',
} -%}
{%- set lead_status = {
    'new': 'open',
    'open': 'open',
    'inprogress': 'working',
    'attemptedtocontact': 'working',
    'connected': 'working',
    'opendeal': 'converted',
    'unqualified': 'disqualified',
    'badtiming': 'open',
} -%}
with

contacts as (
    select * from {{ ref('stg_hubspot__contact') }}
),

config as (
    select * from {{ ref('stg_hubspot__config') }}
),

links as (
    select * from {{ ref('int_hubspot__deal_contact_links') }}
),

owner_values as (
    select * from {{ ref('int_hubspot__owner_values') }}
),

custom_properties as (
    select * from {{ ref('stg_hubspot__custom_property_values') }}
    where config_key = 'agency_property'
),

name_order as (
    select
        source_system,
        max(config_value) as name_order
    from config
    where config_key = 'name_order'
    group by source_system
),

-- source.yml maps, by lookup key of the value.
lead_status_map as (
    select
        source_system,
        {{ hubspot_key('entry_key') }} as value_key,
        max(config_value) as lead_status
    from config
    where config_key = 'lead_status_map'
    group by source_system, {{ hubspot_key('entry_key') }}
),

lead_source_map as (
    select
        source_system,
        {{ hubspot_key('entry_key') }} as value_key,
        max(config_value) as lead_source
    from config
    where config_key = 'lead_source_map'
    group by source_system, {{ hubspot_key('entry_key') }}
),

-- An agency by the lookup key of its id or its name (an id wins over another agency's name).
agency_keys as (
    select
        source_system,
        agency_key,
        max(case when is_id then entry_key end) as id_match,
        max(case when not is_id then entry_key end) as name_match
    from (
        select distinct
            source_system,
            entry_key,
            {{ hubspot_key('entry_key') }} as agency_key,
            true as is_id
        from config
        where config_key = 'agencies'
        union all
        select
            source_system,
            entry_key,
            {{ hubspot_key('config_value') }} as agency_key,
            false as is_id
        from config
        where config_key = 'agencies'
            and (attribute is null or attribute in ('name', 'agency_name'))
    ) as keyed
    group by source_system, agency_key
),

-- Rule: a later row with the same Record ID supersedes the earlier one.
superseded as (
    select
        source_system,
        source_file,
        source_row,
        {{ hubspot_superseded_reason('contact_id') }} as superseded_reason
    from contacts
    where not is_deleted and contact_id is not null
),

first_deals as (
    select
        source_system,
        contact_id,
        deal_id,
        deal_created_at
    from links
    where is_first_deal_of_contact
),

contacts_with_rules as (
    select
        contacts.*,
        superseded.superseded_reason,
        coalesce(name_order.name_order, 'family_first') as name_order,
        -- Became a lead: a lead date, a lifecycle stage of lead or later, or a lead source.
        contacts.became_lead_at is not null
        or {{ hubspot_key('contacts.lifecycle_stage') }} in (
            'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer',
            'evangelist'
        )
        or contacts.original_source is not null as is_lead,
        coalesce(
            lifecycle_custom.lead_status,
            case {{ hubspot_key('contacts.lifecycle_stage') }}
                {%- for key, value in lifecycle_status.items() %}
                    when '{{ key }}' then '{{ value }}'
                {%- endfor %}
            end
        ) as lifecycle_lead_status,
        coalesce(
            status_custom.lead_status,
            case {{ hubspot_key('contacts.lead_status') }}
                {%- for key, value in lead_status.items() %}
                    when '{{ key }}' then '{{ value }}'
                {%- endfor %}
            end
        ) as mapped_lead_status,
        lead_source_map.lead_source as mapped_lead_source,
        owner_values.owner_id as resolved_owner_id,
        owner_values.owner_agency_id,
        custom_properties.property_value as agency_value,
        coalesce(agency_keys.id_match, agency_keys.name_match) as agency_entry,
        first_deals.deal_id as first_deal_id,
        first_deals.deal_created_at as first_deal_created_at
    from contacts
    left join superseded
        on contacts.source_system = superseded.source_system
            and contacts.source_file = superseded.source_file
            and contacts.source_row = superseded.source_row
    left join name_order
        on contacts.source_system = name_order.source_system
    left join lead_status_map as lifecycle_custom
        on contacts.source_system = lifecycle_custom.source_system
            and {{ hubspot_key('contacts.lifecycle_stage') }} = lifecycle_custom.value_key
    left join lead_status_map as status_custom
        on contacts.source_system = status_custom.source_system
            and {{ hubspot_key('contacts.lead_status') }} = status_custom.value_key
    left join lead_source_map
        on contacts.source_system = lead_source_map.source_system
            and {{ hubspot_key('contacts.original_source') }} = lead_source_map.value_key
    left join owner_values
        on contacts.source_system = owner_values.source_system
            and contacts.contact_owner = owner_values.owner_value
    left join custom_properties
        on contacts.source_system = custom_properties.source_system
            and contacts.source_file = custom_properties.source_file
            and contacts.source_row = custom_properties.source_row
    left join agency_keys
        on contacts.source_system = agency_keys.source_system
            and {{ hubspot_key('custom_properties.property_value') }} = agency_keys.agency_key
    left join first_deals
        on contacts.source_system = first_deals.source_system
            and contacts.contact_id = first_deals.contact_id
),

statuses as (
    select
        *,
        case
            when lifecycle_lead_status = 'converted' then 'converted'
            when lead_status is not null then mapped_lead_status
            when lifecycle_stage is not null then lifecycle_lead_status
            else 'open'
        end as canonical_lead_status
    from contacts_with_rules
),

-- The rejection rules, in this order (the first that applies is the reason): deleted by a sync; superseded; no Record ID;
-- then, for a lead, a value missing from its map.
checked as (
    select
        {{ crm_namespaced('source_system', 'contact_id') }} as contact_id,
        {{ crm_namespaced('source_system', hubspot_first_id('associated_company_ids')) }}
            as account_id,
        {{ hubspot_full_name('first_name', 'last_name', 'name_order') }} as full_name,
        contact_email as email,
        phone_number as phone,
        job_title as title,
        created_at,
        is_lead,
        contact_id as native_contact_id,
        not is_deleted and contact_id is not null and superseded_reason is null as is_live,
        coalesce(became_lead_at, created_at) as lead_created_at,
        case
            when original_source is not null then coalesce(mapped_lead_source, original_source)
        end as lead_source,
        canonical_lead_status as lead_status,
        {{ crm_namespaced('source_system', 'resolved_owner_id') }} as owner_id,
        case
            when agency_value is not null
                then {{ crm_namespaced('source_system', 'agency_entry') }}
            else owner_agency_id
        end as agency_id,
        case
            when canonical_lead_status = 'converted'
                then coalesce(became_opportunity_at, first_deal_created_at)
        end as converted_at,
        case
            when canonical_lead_status = 'converted'
                then {{ crm_namespaced('source_system', 'first_deal_id') }}
        end as converted_opportunity_id,
        case
            when is_deleted
                then 'deleted in HubSpot (_fivetran_deleted = true in the synced table)'
            when superseded_reason is not null then superseded_reason
            when contact_id is null then '''Record ID'' is empty'
            when unreadable_value_reason is not null then unreadable_value_reason
            when is_lead and coalesce(lifecycle_lead_status, '') <> 'converted'
                and lead_status is not null and mapped_lead_status is null
                then 'Lead Status ''' || lead_status
                    || ''' is not in source.yml lead_status_map (value: status)'
            when is_lead and lead_status is null and lifecycle_stage is not null
                and lifecycle_lead_status is null
                then 'Lifecycle Stage ''' || lifecycle_stage
                    || ''' is not in source.yml lead_status_map (value: status)'
            when is_lead and canonical_lead_status = 'converted'
                and unreadable_opportunity_date_reason is not null
                then unreadable_opportunity_date_reason
            when is_lead and agency_value is not null and agency_entry is null
                then 'agency ''' || agency_value
                    || ''' is not in source.yml agencies (agency id: name)'
        end as rejection_reason,
        source_system,
        source_file,
        source_row
    from statuses
)

select * from checked
