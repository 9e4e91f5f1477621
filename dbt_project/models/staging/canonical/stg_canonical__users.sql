-- One row per user. A person may come with several rows: one per role (SDR on some deals, the
-- closer on others, as a mapping derives users from a deals file) or conflicting copies. The
-- roles are all kept (rep_roles, has_sdr_role, has_ae_role: facts are attributed by the role
-- on the deal); the other attributes come from the latest file and row. Both cases are
-- reported in data_quality_issues (user_multiple_roles, user_conflicting_attributes), never
-- merged silently.
with source as (
    select * from {{ source('canonical', 'users') }}
),

deduplicated as (
    {{ deduplicate('source', 'user_id', '_source_file desc, _row_number desc') }}
),

distinct_roles as (
    select distinct
        user_id,
        upper(role) as rep_role
    from source
),

roles as (
    select
        user_id,
        {{ dbt.listagg('rep_role', "','", 'order by rep_role') }} as rep_roles,
        count(*) as role_count,
        {{ dbt.bool_or("rep_role = 'SDR'") }} as has_sdr_role,
        {{ dbt.bool_or("rep_role = 'AE'") }} as has_ae_role
    from distinct_roles
    group by user_id
),

final as (
    select
        deduplicated._source_system as source_system,
        deduplicated._source_file as source_file,
        deduplicated._row_number as source_row,
        deduplicated.user_id,
        deduplicated.user_name,
        deduplicated.email as user_email,
        coalesce(deduplicated.team_id, 'unassigned') as team_id,
        coalesce(
            {{ neutralised_text('deduplicated.team_name') }}, deduplicated.team_id, 'unassigned'
        ) as team_name,
        upper(deduplicated.role) as rep_role,
        roles.rep_roles,
        roles.role_count > 1 as has_several_roles,
        roles.has_sdr_role,
        roles.has_ae_role,
        coalesce(
            lower(deduplicated.motion),
            case when upper(deduplicated.role) = 'SDR' then 'inside' else 'field' end
        ) as sales_motion,
        deduplicated.agency_id,
        deduplicated.agency_id is not null as is_agency_rep,
        deduplicated.hired_date,
        coalesce(deduplicated.is_active, true) as is_active,
        deduplicated._loaded_at as loaded_at
    from deduplicated
    inner join roles
        on deduplicated.user_id = roles.user_id
)

select * from final
