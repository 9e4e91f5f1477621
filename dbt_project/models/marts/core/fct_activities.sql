{#- Incremental (macros/incremental/activity_batch.sql): a night that only adds activity files
    recomputes the activities of its batch; any other change rebuilds the table whole. -#}
{#- full_refresh: Spark's Parquet tables cannot delete a night's batch, every build there is a
    full one. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=(true if target.type == 'spark' else none),
    on_schema_change='fail',
    pre_hook="{{ delete_activity_batch('activity_id', activity_batch_ids()) }}",
) }}
-- depends_on: {{ source('canonical', 'activities') }}
-- Sales activities without free text (the subject may hold personal data).
with activities as (
    select * from {{ ref('int_canonical__activities') }}
),

reps as (
    select * from {{ ref('int_canonical__users') }}
),

account_keys as (
    select * from {{ ref('int_account_keys') }}
),

leads as (
    select
        lead_id,
        agency_id
    from {{ ref('int_canonical__leads') }}
),

final as (
    select
        activities.activity_id,
        activities.source_system,
        activities.activity_type,
        activities.activity_outcome,
        activities.activity_at,
        cast(activities.activity_at as date) as activity_date,
        activities.owner_id as rep_id,
        coalesce(reps.team_id, 'unassigned') as team_id,
        coalesce(reps.agency_id, leads.agency_id, 'in_house') as agency_key,
        activities.duration_minutes,
        activities.lead_id,
        activities.opportunity_id,
        coalesce(account_keys.merged_account_id, activities.account_id) as account_id,
        activities.activity_type = 'call' as is_call,
        activities.activity_type = 'call'
        and activities.activity_outcome in ('connected', 'appointment_set') as is_connected_call,
        activities.activity_outcome = 'appointment_set' as is_appointment_set,
        activities.activity_type = 'email' as is_email_sent,
        activities.activity_type = 'email'
        and activities.activity_outcome = 'opened' as is_email_opened,
        activities.activity_type = 'meeting'
        and activities.activity_outcome = 'held' as is_meeting_held
    from activities
    left join reps
        on activities.owner_id = reps.user_id
    left join leads
        on activities.lead_id = leads.lead_id
    left join account_keys
        on activities.account_id = account_keys.account_id
    {%- if is_activity_batch_run() %}
    where activities.activity_id in ({{ activity_batch_ids() }})
    {%- endif %}
)

select * from final
