{#- The activity counts every activity KPI is made of, per day × rep × lead source × segment
    (industry, company size of the account) × product: one pass over the activities, one row
    per group (fct_kpi_daily unpivots them into KPIs, so its own aggregation stays small).
    Incremental (macros/incremental/activity_batch.sql): a night that only adds activity files
    recomputes the days its batch touches; any other change (accounts' segments included)
    rebuilds the table whole. No as-of date here: fct_kpi_daily applies it, so a later as-of
    date does not touch this table. -#}
{#- full_refresh: Spark's Parquet tables cannot delete a night's batch, every build there is a
    full one. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=(true if target.type == 'spark' else none),
    pre_hook="{{ delete_activity_batch('activity_date', activity_batch_days()) }}",
) }}
-- depends_on: {{ source('canonical', 'activities') }}
with activity_records as (
    select * from {{ ref('fct_activities') }}
    {%- if is_activity_batch_run() %}
    where activity_date in ({{ activity_batch_days() }})
    {%- endif %}
),

leads as (
    select * from {{ ref('fct_leads') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

-- Activities with the lead source, account and product of the lead or opportunity they work on.
activities as (
    select
        activity_records.activity_date,
        activity_records.rep_id,
        coalesce(leads.lead_source, opportunities.lead_source) as lead_source,
        coalesce(activity_records.account_id, opportunities.account_id, leads.account_id)
            as account_id,
        opportunities.product,
        activity_records.duration_minutes,
        activity_records.is_call,
        activity_records.is_connected_call,
        activity_records.is_email_sent,
        activity_records.is_email_opened,
        activity_records.is_appointment_set,
        activity_records.is_meeting_held
    from activity_records
    left join leads
        on activity_records.lead_id = leads.lead_id
    left join opportunities
        on activity_records.opportunity_id = opportunities.opportunity_id
),

-- Exact counts: whole numbers and whole minutes, summed as decimals.
final as (
    select
        activities.activity_date,
        activities.rep_id,
        activities.lead_source,
        {{ kpi_daily_segment_columns('activities.account_id', 'accounts', 'activities.product') }},
        sum(case when activities.is_call then 1 else 0 end) as calls,
        sum(case when activities.is_call and activities.is_connected_call then 1 else 0 end) as connected_calls,
        sum(case when activities.is_email_sent then 1 else 0 end) as sent_emails,
        sum(case when activities.is_email_sent and activities.is_email_opened then 1 else 0 end) as opened_emails,
        sum(case when activities.is_appointment_set then 1 else 0 end) as appointments,
        sum(case when activities.is_call and activities.is_appointment_set then 1 else 0 end) as call_appointments,
        sum(case when activities.is_meeting_held then 1 else 0 end) as meetings_held,
        count(*) as activities,
        sum(cast(coalesce(activities.duration_minutes, 0) as decimal(38, 9))) as activity_minutes
    from activities
    left join accounts
        on activities.account_id = accounts.account_id
    group by 1, 2, 3, 4, 5, 6
)

select * from final
