{#- Every owner row with the team, role, motion and agency the rules give it, and the reason it
    is rejected (null: kept). The rules of orchestration/sources/hubspot.py (_user_row): the
    team is the first "Primary team"; source.yml owner_roles maps the owner id, else the team
    name, to {role, motion, team_id?, team_name?, agency_id?} (an owner id entry wins over its
    team's entry as a whole); archived owners are inactive. is_live marks the rows the owner
    lookup (int_hubspot__owner_values) uses: not deleted, with an id, not superseded. -#}
with

owners as (
    select * from {{ ref('stg_hubspot__owner') }}
),

config as (
    select * from {{ ref('stg_hubspot__config') }}
),

-- source.yml owner_roles: owner id or team name -> {role, motion, team_id, team_name, agency_id}.
role_entries as (
    select
        source_system,
        entry_key,
        max(case when attribute = 'role' then config_value end) as role,  -- noqa: RF04
        max(case when attribute = 'motion' then config_value end) as motion,
        max(case when attribute = 'team_id' then config_value end) as team_id,
        max(case when attribute = 'team_name' then config_value end) as team_name,
        max(case when attribute = 'agency_id' then config_value end) as agency_id
    from config
    where config_key = 'owner_roles'
    group by source_system, entry_key
),

name_order as (
    select
        source_system,
        max(config_value) as name_order
    from config
    where config_key = 'name_order'
    group by source_system
),

-- Rule: a later row with the same Owner ID supersedes the earlier one.
superseded as (
    select
        source_system,
        source_file,
        source_row,
        {{ hubspot_superseded_reason('owner_id') }} as superseded_reason
    from owners
    where not is_deleted and owner_id is not null
),

owners_with_entries as (
    select
        owners.*,
        {{ hubspot_first_id('owners.team_name') }} as primary_team,
        superseded.superseded_reason,
        coalesce(by_owner.entry_key, by_team.entry_key) as entry_key,
        case when by_owner.entry_key is not null then by_owner.role else by_team.role end
            as entry_role,
        case when by_owner.entry_key is not null then by_owner.motion else by_team.motion end
            as entry_motion,
        case when by_owner.entry_key is not null then by_owner.team_id else by_team.team_id end
            as entry_team_id,
        case
            when by_owner.entry_key is not null then by_owner.team_name else by_team.team_name
        end as entry_team_name,
        case
            when by_owner.entry_key is not null then by_owner.agency_id else by_team.agency_id
        end as entry_agency_id,
        coalesce(name_order.name_order, 'family_first') as name_order
    from owners
    left join superseded
        on owners.source_system = superseded.source_system
            and owners.source_file = superseded.source_file
            and owners.source_row = superseded.source_row
    left join role_entries as by_owner
        on owners.source_system = by_owner.source_system
            and owners.owner_id = by_owner.entry_key
    left join role_entries as by_team
        on owners.source_system = by_team.source_system
            and {{ hubspot_first_id('owners.team_name') }} = by_team.entry_key
    left join name_order
        on owners.source_system = name_order.source_system
),

-- The rejection rules, in order: deleted by a sync; superseded; no Owner ID; no owner_roles
-- entry; a role or motion that is not canonical (the former converter refused such a config).
checked as (
    select
        *,
        case
            when is_deleted
                then 'deleted in HubSpot (_fivetran_deleted = true in the synced table)'
            when superseded_reason is not null then superseded_reason
            when owner_id is null then '''Owner ID'' is empty'
            when entry_key is null
                then 'owner ' || owner_id || ' (team ''' || coalesce(primary_team, '-')
                    || ''') has no entry in source.yml owner_roles (by owner id or team name)'
            -- A role or motion that is not canonical (a typo in source.yml): the row is
            -- rejected with the value.
            when coalesce(entry_role, '') not in ('SDR', 'AE', 'CS', 'MANAGER')
                then 'role ''' || coalesce(entry_role, '') || ''' of owner ' || owner_id
                    || ' in source.yml owner_roles is not one of SDR, AE, CS, MANAGER'
            when coalesce(entry_motion, '') not in ('inside', 'field')
                then 'motion ''' || coalesce(entry_motion, '') || ''' of owner ' || owner_id
                    || ' in source.yml owner_roles is not one of inside, field'
        end as rejection_reason
    from owners_with_entries
),

assigned as (
    select
        {{ crm_namespaced('source_system', 'owner_id') }} as user_id,
        {{ hubspot_full_name('first_name', 'last_name', 'name_order') }} as user_name,
        owner_email as email,
        {{ crm_namespaced('source_system', 'coalesce(entry_team_id, primary_team)') }} as team_id,
        coalesce(entry_team_name, primary_team) as team_name,
        entry_role as role,  -- noqa: RF04
        entry_motion as motion,
        {{ crm_namespaced('source_system', 'entry_agency_id') }} as agency_id,
        cast(null as date) as hired_date,
        not is_archived as is_active,
        owner_id,
        not is_deleted and owner_id is not null and superseded_reason is null as is_live,
        rejection_reason,
        source_system,
        source_file,
        source_row
    from checked
)

select * from assigned
