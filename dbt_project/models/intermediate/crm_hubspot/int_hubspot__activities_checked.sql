{#- Every call, e-mail and meeting row with its canonical activity values and the reason it is
    rejected (null: kept). The rules of orchestration/sources/hubspot.py (_activity, _call_row,
    _email_row, _meeting_row):

    - every kind: the lead is the first associated contact that is a lead, the opportunity and
      the account the first associated deal and company; the owner is resolved as in
      int_hubspot__owner_values;
    - calls: "Call outcome" through source.yml call_outcome_map (no defaults: HubSpot's own
      outcomes need a line too); minutes from "Call duration" (milliseconds or hh:mm:ss),
      rounded half up;
    - e-mails: `opened` when opened at least once, else `sent`; incoming e-mails, bounced or
      failed ones and ones not sent yet (scheduled, sending) are rejected;
    - meetings: "Meeting outcome" through meeting_outcome_map over the defaults (Scheduled and
      Completed: held; No show: no_show; Canceled, Cancelled, Rescheduled: rejected); no outcome:
      held; minutes from the start and end times.

    Where the former Python converter stopped the whole run with a mapping error (a call or meeting outcome
    missing from its map), this model rejects the row with a reason naming the value and the
    map. -#}
{%- set meeting_outcomes = {
    'scheduled': 'held',
    'completed': 'held',
    'noshow': 'no_show',
    'canceled': 'reject',
    'cancelled': 'reject',
    'rescheduled': 'reject',
} -%}
with

calls as (
    select * from {{ ref('stg_hubspot__engagement_call') }}
),

emails as (
    select * from {{ ref('stg_hubspot__engagement_email') }}
),

meetings as (
    select * from {{ ref('stg_hubspot__engagement_meeting') }}
),

config as (
    select * from {{ ref('stg_hubspot__config') }}
),

owner_values as (
    select * from {{ ref('int_hubspot__owner_values') }}
),

contacts as (
    select * from {{ ref('int_hubspot__contacts_checked') }}
),

call_outcome_map as (
    select
        source_system,
        {{ hubspot_key('entry_key') }} as value_key,
        max(config_value) as outcome
    from config
    where config_key = 'call_outcome_map'
    group by source_system, {{ hubspot_key('entry_key') }}
),

meeting_outcome_map as (
    select
        source_system,
        {{ hubspot_key('entry_key') }} as value_key,
        max(config_value) as outcome
    from config
    where config_key = 'meeting_outcome_map'
    group by source_system, {{ hubspot_key('entry_key') }}
),

-- The columns every kind fills the same way, and each kind's own values.
activities as (
    select
        'engagement_call' as object_name,
        'call' as activity_type,
        calls.call_id as native_id,
        calls.activity_at,
        calls.activity_owner,
        calls.call_title as subject,
        calls.associated_contact_ids,
        calls.associated_company_ids,
        calls.associated_deal_ids,
        calls.call_outcome as outcome_value,
        coalesce(call_outcome_map.outcome, '') as mapped_outcome,
        {{ hubspot_minutes('calls.call_duration_seconds') }} as duration_minutes,
        cast(null as {{ dbt.type_string() }}) as email_direction,
        cast(null as {{ dbt.type_string() }}) as email_status,
        cast(null as decimal(38, 6)) as email_open_count,
        calls.unreadable_value_reason,
        cast(null as {{ dbt.type_string() }}) as late_unreadable_reason,
        calls.is_deleted,
        calls.source_system,
        calls.source_file,
        calls.source_row
    from calls
    left join call_outcome_map
        on calls.source_system = call_outcome_map.source_system
            and {{ hubspot_key('calls.call_outcome') }} = call_outcome_map.value_key
    union all
    select
        'engagement_email' as object_name,
        'email' as activity_type,
        email_id,
        activity_at,
        activity_owner,
        email_subject,
        associated_contact_ids,
        associated_company_ids,
        associated_deal_ids,
        cast(null as {{ dbt.type_string() }}) as outcome_value,
        case when email_open_count > 0 then 'opened' else 'sent' end as mapped_outcome,
        cast(null as {{ dbt.type_bigint() }}) as duration_minutes,
        email_direction,
        email_status,
        email_open_count,
        case when activity_at is null then unreadable_value_reason end as unreadable_value_reason,
        case when activity_at is not null then unreadable_value_reason end as late_unreadable_reason,
        is_deleted,
        source_system,
        source_file,
        source_row
    from emails
    union all
    select
        'engagement_meeting' as object_name,
        'meeting' as activity_type,
        meetings.meeting_id,
        meetings.activity_at,
        meetings.activity_owner,
        meetings.meeting_title,
        meetings.associated_contact_ids,
        meetings.associated_company_ids,
        meetings.associated_deal_ids,
        meetings.meeting_outcome,
        case
            when meetings.meeting_outcome is null then 'held'
            else coalesce(
                    meeting_outcome_map.outcome,
                    case {{ hubspot_key('meetings.meeting_outcome') }}
                        {%- for key, value in meeting_outcomes.items() %}
                            when '{{ key }}' then '{{ value }}'
                        {%- endfor %}
                    end,
                    ''
                )
        end as mapped_outcome,
        case
            when meetings.meeting_end_at >= meetings.meeting_start_at
                then {{ hubspot_minutes(dbt.datediff(
                    'meetings.meeting_start_at', 'meetings.meeting_end_at', 'second'
                )) }}
        end as duration_minutes,
        cast(null as {{ dbt.type_string() }}) as email_direction,
        cast(null as {{ dbt.type_string() }}) as email_status,
        cast(null as decimal(38, 6)) as email_open_count,
        meetings.unreadable_value_reason,
        case
            when meetings.unreadable_meeting_time_reason is not null
                then 'cannot read the meeting start/end time'
        end as late_unreadable_reason,
        meetings.is_deleted,
        meetings.source_system,
        meetings.source_file,
        meetings.source_row
    from meetings
    left join meeting_outcome_map
        on meetings.source_system = meeting_outcome_map.source_system
            and {{ hubspot_key('meetings.meeting_outcome') }} = meeting_outcome_map.value_key
),

-- Rule: a later row with the same Record ID supersedes the earlier one (within one kind).
superseded as (
    select
        object_name,
        source_system,
        source_file,
        source_row,
        {{ hubspot_superseded_reason('native_id') }} as superseded_reason
    from activities
    where not is_deleted and native_id is not null
),

-- The lead: the first associated contact (in the cell's order) that is a lead (a live contact
-- row that became a lead).
lead_contacts as (
    select distinct
        source_system,
        native_contact_id as contact_id
    from contacts
    where is_live and is_lead
),

lead_candidates as (
    select
        listed.object_name,
        listed.source_system,
        listed.source_file,
        listed.source_row,
        listed.listed_contact_id,
        row_number() over (
            partition by
                listed.object_name, listed.source_system, listed.source_file,
                listed.source_row
            order by listed.listed_contact_position
        ) as lead_rank
    from (
        select
            object_name,
            source_system,
            source_file,
            source_row,
            {{ hubspot_unnest_ids(hubspot_id_list('associated_contact_ids'), 'listed_contact') }}
        from activities
    ) as listed
    where exists (
            select 1 from lead_contacts
            where lead_contacts.source_system = listed.source_system
                and lead_contacts.contact_id = listed.listed_contact_id
        )
),

first_leads as (
    select * from lead_candidates
    where lead_rank = 1
),

activities_with_rules as (
    select
        activities.*,
        superseded.superseded_reason,
        owner_values.owner_id as resolved_owner_id,
        first_leads.listed_contact_id as lead_contact_id
    from activities
    left join superseded
        on activities.object_name = superseded.object_name
            and activities.source_system = superseded.source_system
            and activities.source_file = superseded.source_file
            and activities.source_row = superseded.source_row
    left join owner_values
        on activities.source_system = owner_values.source_system
            and activities.activity_owner = owner_values.owner_value
    left join first_leads
        on activities.object_name = first_leads.object_name
            and activities.source_system = first_leads.source_system
            and activities.source_file = first_leads.source_file
            and activities.source_row = first_leads.source_row
),

-- The rejection rules, in this order (the first that applies is the reason): deleted by a sync; superseded; no Record ID;
-- no activity date; then each kind's own.
checked as (
    select
        object_name,
        {{ crm_namespaced('source_system', 'native_id') }} as activity_id,
        activity_type,
        activity_at,
        {{ crm_namespaced('source_system', 'resolved_owner_id') }} as owner_id,
        case
            when activity_type = 'call' then nullif(mapped_outcome, '')
            else mapped_outcome
        end as outcome,
        duration_minutes,
        {{ crm_namespaced('source_system', 'lead_contact_id') }} as lead_id,
        {{ crm_namespaced('source_system', hubspot_first_id('associated_deal_ids')) }}
            as opportunity_id,
        {{ crm_namespaced('source_system', hubspot_first_id('associated_company_ids')) }}
            as account_id,
        subject,
        case
            when is_deleted
                then 'deleted in HubSpot (_fivetran_deleted = true in the synced table)'
            when superseded_reason is not null then superseded_reason
            when native_id is null then '''Record ID'' is empty'
            when activity_at is null and unreadable_value_reason is null
                then '''Activity date'' is empty'
            when unreadable_value_reason is not null then unreadable_value_reason
            when activity_type = 'call' and outcome_value is not null and mapped_outcome = ''
                then 'Call outcome ''' || outcome_value
                    || ''' is not in source.yml call_outcome_map (value: outcome)'
            when activity_type = 'email' and {{ hubspot_key('email_direction') }} like '%incoming%'
                then 'incoming e-mail (not a rep activity)'
            when activity_type = 'email' and {{ hubspot_key('email_status') }} in ('bounced', 'failed')
                then 'e-mail ' || {{ hubspot_key('email_status') }}
            when activity_type = 'email'
                and {{ hubspot_key('email_status') }} in ('scheduled', 'sending')
                then 'e-mail not sent yet'
            when activity_type = 'meeting' and mapped_outcome = ''
                then 'Meeting outcome ''' || outcome_value
                    || ''' is not in source.yml meeting_outcome_map (value: held)'
            when activity_type = 'meeting' and mapped_outcome = 'reject'
                then case
                        when {{ hubspot_key('outcome_value') }} like '%cancel%' then 'meeting canceled'
                        else 'meeting ' || lower(outcome_value)
                    end
            when late_unreadable_reason is not null then late_unreadable_reason
        end as rejection_reason,
        source_system,
        source_file,
        source_row
    from activities_with_rules
)

select * from checked
