-- Users with several roles (one row per role: attributed by the role on each deal) or with
-- conflicting attributes (different teams or agencies): reported, never merged silently.
{%- set text = dbt.type_string() %}
with source as (
    select * from {{ source('canonical', 'users') }}
),

per_user as (
    select
        user_id,
        count(distinct upper(role)) as roles,
        count(distinct coalesce(team_id, '')) as teams,
        count(distinct coalesce(agency_id, '')) as agencies,
        {{ dbt.listagg('distinct upper(role)', "','") }} as role_values,
        {{ dbt.listagg("distinct coalesce(team_id, '(empty)')", "','") }} as team_values,
        min(_source_system) as source_system,
        max(_source_file) as source_file,
        max(_row_number) as source_row
    from source
    group by user_id
),

final as (
    select
        'user_multiple_roles' as rule_code,
        'users' as entity,
        user_id as record_id,
        source_system,
        source_file,
        source_row,
        'roles=' || role_values as offending_values
    from per_user
    where roles > 1
    union all
    select
        'user_conflicting_attributes',
        'users',
        user_id,
        source_system,
        source_file,
        source_row,
        'teams=' || team_values || ', agencies=' || cast(agencies as {{ text }})
    from per_user
    where teams > 1 or agencies > 1
)

select * from final
