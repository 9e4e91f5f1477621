{#- HubSpot calls, e-mails and meetings in the canonical activities entity: the kept rows of
    int_hubspot__activities_checked. -#}
with

checked as (
    select * from {{ ref('int_hubspot__activities_checked') }}
),

kept as (
    select
        activity_id,
        activity_type,
        activity_at,
        owner_id,
        outcome,
        duration_minutes,
        lead_id,
        opportunity_id,
        account_id,
        subject,
        source_system,
        source_file,
        source_row
    from checked
    where rejection_reason is null
)

select * from kept
