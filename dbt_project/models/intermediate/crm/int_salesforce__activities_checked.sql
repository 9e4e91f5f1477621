{#- Every Task and Event row with the activity it gives and the reason it is rejected (null:
    kept). The Salesforce Task and Event rules (docs: salesforce_rules). -#}
with

tasks as (
    select * from {{ ref('stg_salesforce__task') }}
),

events as (
    select * from {{ ref('stg_salesforce__event') }}
),

config as (
    select * from {{ ref('stg_salesforce__config') }}
),

custom_fields as (
    select * from {{ ref('stg_salesforce__custom_field_values') }}
    where config_key in ('email_opened_field', 'event_no_show_field')
),

-- source.yml call_disposition_map: CallDisposition -> no_answer|connected|appointment_set;
-- the key "" maps calls without a disposition.
call_disposition_map as (
    select
        source_system,
        entry_key as call_disposition,
        config_value as outcome
    from config
    where config_key = 'call_disposition_map'
),

-- The kind of task comes from TaskSubtype; an export without TaskSubtype values but with Type
-- values (an older org) is read from Type.
task_kind_column as (
    select
        source_system,
        max(case when task_subtype is not null then 1 else 0 end) = 0
        and max(case when task_type is not null then 1 else 0 end) = 1 as uses_type
    from tasks
    group by source_system
),

-- Rule: Call -> call, Email/ListEmail -> email, anything else -> task.
typed_tasks as (
    select
        tasks.*,
        case
            when (
                case when task_kind_column.uses_type then tasks.task_type
                    else tasks.task_subtype
                end
            ) = 'Call' then 'call'
            when (case when task_kind_column.uses_type then tasks.task_type
                else tasks.task_subtype
            end) in ('Email', 'ListEmail') then 'email'
            else 'task'
        end as activity_type,
        coalesce(tasks.is_closed, false) or coalesce(tasks.task_status = 'Completed', false)
            as is_done
    from tasks
    inner join task_kind_column
        on tasks.source_system = task_kind_column.source_system
),

task_activities as (
    select
        'task' as object_name,
        typed_tasks.task_id as native_activity_id,
        typed_tasks.activity_type,
        -- Rule (task time): CompletedDateTime, else CreatedDate, unless ActivityDate (the day
        -- the call was made) names another day: then ActivityDate 00:00:00.
        case
            when typed_tasks.completed_at is not null then typed_tasks.completed_at
            when typed_tasks.activity_date is not null
                and (
                    typed_tasks.created_at is null
                    or cast(typed_tasks.created_at as date) <> typed_tasks.activity_date
                )
                then cast(typed_tasks.activity_date as timestamp)
            else typed_tasks.created_at
        end as activity_at,
        typed_tasks.owner_id,
        -- Rule (outcome): a call's mapped disposition; an e-mail opened (email_opened_field)
        -- or sent (closed); a task completed when closed.
        case
            when typed_tasks.activity_type = 'call' then call_disposition_map.outcome
            when typed_tasks.activity_type = 'email'
                and {{ crm_boolean('custom_fields.field_value') }} then 'opened'
            when typed_tasks.activity_type = 'email' and typed_tasks.is_done then 'sent'
            when typed_tasks.activity_type = 'task' and typed_tasks.is_done then 'completed'
        end as outcome,
        -- Rule (call minutes): CallDurationInSeconds rounded up to whole minutes (40 s -> 1).
        case
            when typed_tasks.activity_type = 'call'
                then cast(ceil(typed_tasks.call_duration_seconds / 60) as {{ dbt.type_int() }})
        end as duration_minutes,
        typed_tasks.who_id,
        typed_tasks.what_id,
        typed_tasks.account_id,
        typed_tasks.subject,
        case
            when typed_tasks.is_deleted
                then 'deleted in Salesforce (IsDeleted or _fivetran_deleted = true)'
            -- A value that cannot be read (call minutes are read for calls only).
            when typed_tasks.unreadable_value_reason is not null
                and (
                    typed_tasks.activity_type = 'call'
                    or typed_tasks.unreadable_value_reason
                    <> 'CallDurationInSeconds is not a number'
                )
                then typed_tasks.unreadable_value_reason
            -- A disposition missing from the map: the row is rejected with the value to map.
            when typed_tasks.activity_type = 'call'
                and typed_tasks.call_disposition is not null
                and call_disposition_map.call_disposition is null
                then 'CallDisposition ''' || typed_tasks.call_disposition
                    || ''' is not in source.yml call_disposition_map'
            when typed_tasks.activity_type = 'call'
                and call_disposition_map.outcome not in ('no_answer', 'connected', 'appointment_set')
                then 'CallDisposition ''' || coalesce(typed_tasks.call_disposition, '')
                    || ''' maps to ''' || call_disposition_map.outcome
                    || ''' in source.yml call_disposition_map, not one of no_answer, '
                    || 'connected, appointment_set'
            when typed_tasks.owner_id is null then 'OwnerId is empty (owner_id is required)'
            when typed_tasks.completed_at is null and typed_tasks.activity_date is null
                and typed_tasks.created_at is null
                then 'CreatedDate is empty (activity_at is required)'
        end as rejection_reason,
        typed_tasks.source_system,
        typed_tasks.source_file,
        typed_tasks.source_row
    from typed_tasks
    left join call_disposition_map
        on typed_tasks.source_system = call_disposition_map.source_system
            and coalesce(typed_tasks.call_disposition, '') = call_disposition_map.call_disposition
    left join custom_fields
        on typed_tasks.source_system = custom_fields.source_system
            and typed_tasks.source_file = custom_fields.source_file
            and typed_tasks.source_row = custom_fields.source_row
),

event_activities as (
    select
        'event' as object_name,
        events.event_id as native_activity_id,
        'meeting' as activity_type,
        -- Rule (event time): an all-day event is its ActivityDate 00:00:00 with no duration;
        -- otherwise StartDateTime (else ActivityDateTime) and DurationInMinutes.
        case
            when events.is_all_day_event and events.activity_date is not null
                then cast(events.activity_date as timestamp)
            else coalesce(events.started_at, events.activity_date_time_at)
        end as activity_at,
        events.owner_id,
        -- Rule: held, unless event_no_show_field says the meeting did not take place.
        case
            when {{ crm_boolean('custom_fields.field_value') }} then 'no_show'
            else 'held'
        end as outcome,
        case
            when not (events.is_all_day_event and events.activity_date is not null)
                then cast({{ trunc_number('events.duration_minutes') }} as {{ dbt.type_int() }})
        end as duration_minutes,
        events.who_id,
        events.what_id,
        events.account_id,
        events.subject,
        case
            when events.is_deleted
                then 'deleted in Salesforce (IsDeleted or _fivetran_deleted = true)'
            when events.is_child
                then 'child copy of a group event (the invitee''s copy; the parent event is kept)'
            when events.unreadable_value_reason is not null then events.unreadable_value_reason
            when not (coalesce(events.is_all_day_event, false) and events.activity_date is not null)
                and coalesce(events.started_at, events.activity_date_time_at) is null
                then 'StartDateTime is empty (activity_at is required)'
            when events.owner_id is null then 'OwnerId is empty (owner_id is required)'
        end as rejection_reason,
        events.source_system,
        events.source_file,
        events.source_row
    from events
    left join custom_fields
        on events.source_system = custom_fields.source_system
            and events.source_file = custom_fields.source_file
            and events.source_row = custom_fields.source_row
),

activities as (
    select * from task_activities
    union all
    select * from event_activities
),

-- Rule (related records): WhoId is a lead when its key prefix is 00Q; WhatId is an
-- opportunity (006) or an account (001); else the row's AccountId is the account.
checked as (
    select
        {{ crm_namespaced('source_system', 'native_activity_id') }} as activity_id,
        activity_type,
        activity_at,
        {{ crm_namespaced('source_system', 'owner_id') }} as owner_id,
        outcome,
        duration_minutes,
        case
            when substr(who_id, 1, 3) = '00Q'
                then {{ crm_namespaced('source_system', 'who_id') }}
        end as lead_id,
        case
            when substr(what_id, 1, 3) = '006'
                then {{ crm_namespaced('source_system', 'what_id') }}
        end as opportunity_id,
        case
            when substr(what_id, 1, 3) = '001'
                then {{ crm_namespaced('source_system', 'what_id') }}
            else {{ crm_namespaced('source_system', 'account_id') }}
        end as account_id,
        subject,
        rejection_reason,
        object_name,
        source_system,
        source_file,
        source_row
    from activities
)

select * from checked
