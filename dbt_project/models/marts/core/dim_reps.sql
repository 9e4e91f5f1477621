-- Reps without personal data (no names or e-mail addresses).
with users as (
    select * from {{ ref('int_canonical__users') }}
),

final as (
    select
        user_id as rep_id,
        source_system,
        team_id,
        rep_role,
        rep_roles,
        has_sdr_role,
        has_ae_role,
        sales_motion,
        coalesce(agency_id, 'in_house') as agency_key,
        is_agency_rep,
        hired_date,
        is_active
    from users
)

select * from final
