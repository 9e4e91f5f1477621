{#- Every owner value written in a contact, deal or activity row ("Contact owner", "Deal owner",
    "Activity assigned to": an owner id, a name or an e-mail), resolved to an owner id as the
    rules: an `owner_aliases` entry (by lookup key), else an Owner ID
    of the owners export as it is, else the one owner whose id, e-mail, first+last or last+first
    name has the value's lookup key (a key two owners share resolves to none), else the one
    whose key is that of the e-mail address in the value, else an all-digit value as it is,
    else `unlisted-<hash>` (dbt flags those `unknown_owner`). owner_agency_id is the agency of
    the owner's owner_roles entry, for leads without an agency of their own. -#}
with

owners as (
    select * from {{ ref('int_hubspot__users_checked') }}
    where is_live
),

staged_owners as (
    select * from {{ ref('stg_hubspot__owner') }}
),

config as (
    select * from {{ ref('stg_hubspot__config') }}
),

aliases as (
    select
        source_system,
        {{ hubspot_key('entry_key') }} as value_key,
        max(config_value) as owner_id
    from config
    where config_key = 'owner_aliases'
    group by source_system, {{ hubspot_key('entry_key') }}
),

owners_with_names as (
    select
        owners.source_system,
        owners.owner_id,
        staged_owners.owner_email,
        coalesce(staged_owners.first_name, '') as first_name,
        coalesce(staged_owners.last_name, '') as last_name
    from owners
    inner join staged_owners
        on owners.source_system = staged_owners.source_system
            and owners.source_file = staged_owners.source_file
            and owners.source_row = staged_owners.source_row
),

-- The lookup keys of every live owner: its id, e-mail and both name orders.
owner_key_texts as (
    select
        source_system,
        owner_id,
        owner_id as key_text
    from owners_with_names
    union all
    select
        source_system,
        owner_id,
        owner_email as key_text
    from owners_with_names
    union all
    select
        source_system,
        owner_id,
        first_name || last_name as key_text
    from owners_with_names
    union all
    select
        source_system,
        owner_id,
        last_name || first_name as key_text
    from owners_with_names
),

owner_keys as (
    select distinct
        source_system,
        owner_id,
        {{ hubspot_key('key_text') }} as owner_key
    from owner_key_texts
    where nullif(key_text, '') is not null
),

owner_ids as (
    select distinct
        source_system,
        owner_id
    from owners
),

unambiguous_keys as (
    select
        source_system,
        owner_key,
        max(owner_id) as owner_id
    from owner_keys
    group by source_system, owner_key
    having count(distinct owner_id) = 1
),

owner_values as (
    select
        source_system,
        contact_owner as owner_value
    from {{ ref('stg_hubspot__contact') }}
    union
    select
        source_system,
        deal_owner
    from {{ ref('stg_hubspot__deal') }}
    union
    select
        source_system,
        activity_owner
    from {{ ref('stg_hubspot__engagement_call') }}
    union
    select
        source_system,
        activity_owner
    from {{ ref('stg_hubspot__engagement_email') }}
    union
    select
        source_system,
        activity_owner
    from {{ ref('stg_hubspot__engagement_meeting') }}
),

resolved as (
    select
        owner_values.source_system,
        owner_values.owner_value,
        case
            when aliases.owner_id is not null then aliases.owner_id
            when exact.owner_id is not null then exact.owner_id
            when by_key.owner_id is not null then by_key.owner_id
            when by_email.owner_id is not null then by_email.owner_id
            when {{ hubspot_is_digits('owner_values.owner_value') }} then owner_values.owner_value
            else {{ hubspot_unlisted_owner_id(hubspot_key('owner_values.owner_value')) }}
        end as owner_id
    from owner_values
    left join aliases
        on owner_values.source_system = aliases.source_system
            and {{ hubspot_key('owner_values.owner_value') }} = aliases.value_key
    left join owner_ids as exact
        on owner_values.source_system = exact.source_system
            and owner_values.owner_value = exact.owner_id
    left join unambiguous_keys as by_key
        on owner_values.source_system = by_key.source_system
            and {{ hubspot_key('owner_values.owner_value') }} = by_key.owner_key
    left join unambiguous_keys as by_email
        on owner_values.source_system = by_email.source_system
            and {{ hubspot_key(hubspot_email_in('owner_values.owner_value')) }}
            = by_email.owner_key
    where owner_values.owner_value is not null
),

-- The agency of a live owner (the last live row of an id wins).
owner_agencies as (
    select
        source_system,
        owner_id,
        max(agency_id) as agency_id
    from owners
    group by source_system, owner_id
),

final as (
    select
        resolved.source_system,
        resolved.owner_value,
        resolved.owner_id,
        owner_agencies.agency_id as owner_agency_id
    from resolved
    left join owner_agencies
        on resolved.source_system = owner_agencies.source_system
            and resolved.owner_id = owner_agencies.owner_id
)

select * from final
