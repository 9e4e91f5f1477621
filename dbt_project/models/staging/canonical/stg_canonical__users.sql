-- One row per user. A person may come with several rows: one per role (SDR on some deals, the
-- closer on others, as a mapping derives users from a deals file) or conflicting copies. The
-- roles are all kept (rep_roles, has_sdr_role, has_ae_role: facts are attributed by the role
-- on the deal); the other attributes come from the latest file and row. Both cases are
-- reported in data_quality_issues (user_multiple_roles, user_conflicting_attributes), never
-- merged silently.
with source as (
    select * from {{ source('canonical', 'users') }}
),

cleaned as (
    {{ canonical_users('source') }}
)

select * from cleaned
