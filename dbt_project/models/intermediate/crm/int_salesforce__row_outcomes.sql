{#- What became of every landed Salesforce row, one row each: the canonical entity it feeds
    (a UserRole row feeds users as a team) or the reason it is rejected. landed = kept +
    rejected, per file; int_salesforce__rejected_rows lists the rejected ones. -#}
with

users as (
    select * from {{ ref('int_salesforce__users_checked') }}
),

user_roles as (
    select * from {{ ref('stg_salesforce__user_role') }}
),

-- Rule: a UserRole is used when a kept user has it (its name is the team name).
used_roles as (
    select distinct
        source_system,
        user_role_id
    from users
    where rejection_reason is null and user_role_id is not null
),

user_role_rows as (
    select
        'user_role' as object_name,
        'users' as canonical_entity,
        user_roles.source_system,
        user_roles.source_file,
        user_roles.source_row,
        case
            when user_roles.is_deleted
                then 'deleted in Salesforce (IsDeleted or _fivetran_deleted = true)'
            when used_roles.user_role_id is null
                then 'no converted user in User.csv has this role (no team emitted)'
        end as rejection_reason
    from user_roles
    left join used_roles
        on user_roles.source_system = used_roles.source_system
            and user_roles.user_role_id = used_roles.user_role_id
),

row_outcomes as (
    select
        'user' as object_name,
        'users' as canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason
    from users
    union all
    select * from user_role_rows
    union all
    select
        'account' as object_name,
        'accounts' as canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason
    from {{ ref('int_salesforce__accounts_checked') }}
    union all
    select
        'contact' as object_name,
        'contacts' as canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason
    from {{ ref('int_salesforce__contacts_checked') }}
    union all
    select
        'lead' as object_name,
        'leads' as canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason
    from {{ ref('int_salesforce__leads_checked') }}
    union all
    select
        'opportunity' as object_name,
        'opportunities' as canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason
    from {{ ref('int_salesforce__opportunities_checked') }}
    union all
    select
        object_name,
        'opportunity_stage_history' as canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason
    from {{ ref('int_salesforce__opportunity_stage_history_checked') }}
    union all
    select
        object_name,
        'activities' as canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason
    from {{ ref('int_salesforce__activities_checked') }}
    union all
    select
        'dated_conversion_rate' as object_name,
        'exchange_rates' as canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason
    from {{ ref('int_salesforce__exchange_rates_checked') }}
),

final as (
    select
        object_name,
        canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason is null as is_kept,
        rejection_reason
    from row_outcomes
)

select * from final
