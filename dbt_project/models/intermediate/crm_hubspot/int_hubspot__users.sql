{#- HubSpot owners in the canonical users entity: the kept rows of int_hubspot__users_checked. -#}
with

checked as (
    select * from {{ ref('int_hubspot__users_checked') }}
),

kept as (
    select
        user_id,
        user_name,
        email,
        team_id,
        team_name,
        role,
        motion,
        agency_id,
        hired_date,
        is_active,
        source_system,
        source_file,
        source_row
    from checked
    where rejection_reason is null
)

select * from kept
