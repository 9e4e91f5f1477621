{#- Every User row with the team, role, motion and agency the rules give it, and the reason it
    is rejected (null: kept). The Salesforce rules (docs: salesforce_rules):
    the UserRole is the team; source.yml user_roles maps its name to a role
    and motion (null: the role's users are left out); agency_roles maps it to an agency;
    user_overrides (per User.Id) win over the role. -#}
with

users as (
    select * from {{ ref('stg_salesforce__user') }}
),

user_roles as (
    select * from {{ ref('stg_salesforce__user_role') }}
    where not is_deleted
),

config as (
    select * from {{ ref('stg_salesforce__config') }}
),

custom_fields as (
    select * from {{ ref('stg_salesforce__custom_field_values') }}
    where config_key = 'hired_date_field'
),

-- source.yml user_roles: role name -> {role, motion}; an entry set to null leaves the role out.
role_map as (
    select
        source_system,
        entry_key as user_role_name,
        max(case when attribute = 'role' then config_value end) as role,  -- noqa: RF04
        max(case when attribute = 'motion' then config_value end) as motion,
        max(case when attribute is null and config_value is null then 1 else 0 end) = 1
            as is_left_out
    from config
    where config_key = 'user_roles'
    group by source_system, entry_key
),

-- source.yml user_overrides: User.Id -> {role, motion, team_id, team_name, agency_id}.
override_map as (
    select
        source_system,
        entry_key as user_id,
        max(case when attribute = 'role' then config_value end) as role,  -- noqa: RF04
        max(case when attribute = 'motion' then config_value end) as motion,
        max(case when attribute = 'team_id' then config_value end) as team_id,
        max(case when attribute = 'team_name' then config_value end) as team_name,
        max(case when attribute = 'agency_id' then config_value end) as agency_id
    from config
    where config_key = 'user_overrides'
    group by source_system, entry_key
),

-- source.yml agency_roles: role name -> agency id (agency staff).
agency_role_map as (
    select
        source_system,
        entry_key as user_role_name,
        config_value as agency_id
    from config
    where config_key = 'agency_roles'
),

-- source.yml name_order: how LastName/FirstName form a name when there is no Name.
name_order as (
    select
        source_system,
        max(config_value) as name_order
    from config
    where config_key = 'name_order'
    group by source_system
),

users_with_roles as (
    select
        users.*,
        user_roles.user_role_name,
        user_roles.user_role_id is not null as has_role_row,
        role_map.role as mapped_role,
        role_map.motion as mapped_motion,
        role_map.user_role_name is not null as is_role_mapped,
        coalesce(role_map.is_left_out, false) as is_role_left_out,
        agency_role_map.agency_id as role_agency_id,
        override_map.user_id is not null as has_override,
        override_map.role as override_role,
        override_map.motion as override_motion,
        override_map.team_id as override_team_id,
        override_map.team_name as override_team_name,
        override_map.agency_id as override_agency_id,
        coalesce(name_order.name_order, 'last_first') as name_order,
        custom_fields.field_value as hired_date_text
    from users
    left join user_roles
        on users.source_system = user_roles.source_system
            and users.user_role_id = user_roles.user_role_id
    left join role_map
        on users.source_system = role_map.source_system
            and user_roles.user_role_name = role_map.user_role_name
    left join agency_role_map
        on users.source_system = agency_role_map.source_system
            and user_roles.user_role_name = agency_role_map.user_role_name
    left join override_map
        on users.source_system = override_map.source_system
            and users.user_id = override_map.user_id
    left join name_order
        on users.source_system = name_order.source_system
    left join custom_fields
        on users.source_system = custom_fields.source_system
            and users.source_file = custom_fields.source_file
            and users.source_row = custom_fields.source_row
),

-- The rejection rules, in order: deleted; a UserRoleId missing from UserRole.csv; an
-- unreadable value; a role left out (user_roles: null) or missing from user_roles without an
-- override; no role and no override; a role or motion that is not canonical.
checked as (
    select
        *,
        case
            when is_deleted
                then 'deleted in Salesforce (IsDeleted or _fivetran_deleted = true)'
            when unreadable_value_reason is not null then unreadable_value_reason
            when user_role_id is not null and not has_role_row
                then 'UserRoleId not found in UserRole.csv'
            when user_role_id is not null and is_role_left_out and not has_override
                then 'role ''' || user_role_name
                    || ''' is set to null in source.yml user_roles (left out)'
            when user_role_id is not null and not is_role_mapped and not has_override
                then 'role ''' || user_role_name || ''' is not in source.yml user_roles'
            when user_role_id is null and not has_override
                then 'user has no UserRoleId and no entry in source.yml user_overrides '
                    || '(not a sales user)'
            when user_role_id is null and override_team_id is null
                then 'source.yml user_overrides needs a team_id (the user has no role)'
            -- A role or motion that is not canonical (a typo in source.yml): the row is
            -- rejected with the value.
            when coalesce(override_role, mapped_role) not in ('SDR', 'AE', 'CS', 'MANAGER')
                then 'role ''' || coalesce(override_role, mapped_role)
                    || ''' in source.yml user_roles / user_overrides is not one of '
                    || 'SDR, AE, CS, MANAGER'
            when coalesce(override_motion, mapped_motion) not in ('inside', 'field')
                then 'motion ''' || coalesce(override_motion, mapped_motion)
                    || ''' in source.yml user_roles / user_overrides is not one of inside, field'
        end as rejection_reason
    from users_with_roles
),

-- The team is the role (an override's team_id wins); role, motion and team_name of an
-- override win over the role's; the override's agency wins over the role's.
assigned as (
    select
        {{ crm_namespaced('source_system', 'user_id') }} as user_id,
        coalesce(
            user_name,
            nullif(trim(
                case
                    when name_order = 'first_last'
                        then coalesce(first_name, '') || ' ' || coalesce(last_name, '')
                    else coalesce(last_name, '') || ' ' || coalesce(first_name, '')
                end
            ), '')
        ) as user_name,
        user_email as email,
        coalesce(
            {{ crm_namespaced('source_system', 'override_team_id') }},
            {{ crm_namespaced('source_system', 'user_role_id') }}
        ) as team_id,
        coalesce(override_team_name, user_role_name) as team_name,
        coalesce(override_role, mapped_role) as role,  -- noqa: RF04
        coalesce(override_motion, mapped_motion) as motion,
        coalesce(
            {{ crm_namespaced('source_system', 'override_agency_id') }},
            {{ crm_namespaced('source_system', 'role_agency_id') }}
        ) as agency_id,
        {{ crm_date('hired_date_text') }} as hired_date,
        is_active,
        user_role_id,
        rejection_reason,
        source_system,
        source_file,
        source_row
    from checked
)

select * from assigned
