{#- Every OpportunityHistory and OpportunityFieldHistory row with the stage change it gives and
    the reason it is rejected (null: kept). The Salesforce rules (docs: salesforce_rules):
    the stage history of a source comes from OpportunityHistory when
    the source has it, else from OpportunityFieldHistory; rows that repeat the opportunity's
    previous stage (amount or close-date edits) are collapsed away. -#}
with

history as (
    select * from {{ ref('stg_salesforce__opportunity_history') }}
),

field_history as (
    select * from {{ ref('stg_salesforce__opportunity_field_history') }}
),

-- The current StageName of each live opportunity (the last row of an id repeated).
opportunity_stages as (
    select
        source_system,
        opportunity_id,
        opportunity_stage
    from (
        select
            *,
            row_number() over (
                partition by source_system, opportunity_id order by source_row desc
            ) as row_from_last
        from {{ ref('stg_salesforce__opportunity') }}
        where not is_deleted
    ) as numbered
    where row_from_last = 1
),

-- Rule: one file only. A source with OpportunityHistory rows takes its stage history from
-- there; its OpportunityFieldHistory rows are not used.
sources_with_history as (
    select distinct source_system from history
),

history_entries as (
    select
        'opportunity_history' as object_name,
        opportunity_id,
        opportunity_stage,
        changed_at,
        created_by_id,
        case
            when is_deleted then 'deleted in Salesforce (IsDeleted or _fivetran_deleted = true)'
            when unreadable_value_reason is not null then unreadable_value_reason
            when opportunity_id is null then 'OpportunityId is empty (opportunity_id is required)'
            when opportunity_stage is null
                then 'StageName is empty (opportunity_stage is required)'
            when changed_at is null then 'CreatedDate is empty (changed_at is required)'
        end as entry_rejection_reason,
        source_system,
        source_file,
        source_row
    from history
),

-- OpportunityFieldHistory: the stage at creation (a `created` row) is the OldValue of the
-- opportunity's first StageName change, else the opportunity's current StageName.
first_stage_changes as (
    select
        source_system,
        opportunity_id,
        old_value,
        row_number() over (
            partition by source_system, opportunity_id
            order by changed_at nulls first, source_row
        ) as change_order
    from field_history
    where not is_deleted and field_name = 'StageName'
),

initial_stages as (
    select
        opportunity_stages.source_system,
        opportunity_stages.opportunity_id,
        opportunity_stages.opportunity_stage
    from opportunity_stages
    left join first_stage_changes
        on opportunity_stages.source_system = first_stage_changes.source_system
            and opportunity_stages.opportunity_id = first_stage_changes.opportunity_id
            and first_stage_changes.change_order = 1
    where first_stage_changes.opportunity_id is null
    union all
    select
        source_system,
        opportunity_id,
        old_value
    from first_stage_changes
    where change_order = 1
),

-- A StageName row gives its NewValue; a `created` row the initial stage; any other field is
-- not a stage change.
field_history_entries as (
    select
        'opportunity_field_history' as object_name,
        field_history.opportunity_id,
        case
            when field_history.field_name = 'StageName' then field_history.new_value
            when field_history.field_name = 'created' then initial_stages.opportunity_stage
        end as opportunity_stage,
        field_history.changed_at,
        field_history.created_by_id,
        case
            when field_history.is_deleted
                then 'deleted in Salesforce (IsDeleted or _fivetran_deleted = true)'
            when sources_with_history.source_system is not null
                then 'not used: the stage history is taken from OpportunityHistory.csv'
            when coalesce(field_history.field_name, '') not in ('StageName', 'created')
                then 'not a stage change'
            when field_history.unreadable_value_reason is not null
                then field_history.unreadable_value_reason
            when field_history.opportunity_id is null
                then 'OpportunityId is empty (opportunity_id is required)'
            when field_history.field_name = 'StageName' and field_history.new_value is null
                then 'StageName is empty (opportunity_stage is required)'
            when field_history.field_name = 'created' and initial_stages.opportunity_stage is null
                then 'StageName is empty (opportunity_stage is required)'
            when field_history.changed_at is null
                then 'CreatedDate is empty (changed_at is required)'
        end as entry_rejection_reason,
        field_history.source_system,
        field_history.source_file,
        field_history.source_row
    from field_history
    left join sources_with_history
        on field_history.source_system = sources_with_history.source_system
    left join initial_stages
        on field_history.source_system = initial_stages.source_system
            and field_history.opportunity_id = initial_stages.opportunity_id
),

entries as (
    select * from history_entries
    union all
    select * from field_history_entries
),

-- Rule: collapse consecutive repeats. In time order (then row order), an entry whose stage
-- equals the opportunity's previous entry's stage is no stage change. Rejected entries take
-- no part in the comparison.
valid_entries as (
    select
        *,
        lag(opportunity_stage) over (
            partition by source_system, object_name, opportunity_id
            order by changed_at, source_row
        ) as previous_stage
    from entries
    where entry_rejection_reason is null
),

checked as (
    select
        {{ crm_namespaced('entries.source_system', 'entries.opportunity_id') }}
            as opportunity_id,
        entries.opportunity_stage,
        entries.changed_at,
        {{ crm_namespaced('entries.source_system', 'entries.created_by_id') }}
            as changed_by_id,
        coalesce(
            entries.entry_rejection_reason,
            case
                when valid_entries.previous_stage = entries.opportunity_stage
                    then 'no stage change (the stage equals the previous row of the '
                        || 'opportunity: an amount or close-date change)'
            end
        ) as rejection_reason,
        entries.object_name,
        entries.source_system,
        entries.source_file,
        entries.source_row
    from entries
    left join valid_entries
        on entries.source_system = valid_entries.source_system
            and entries.source_file = valid_entries.source_file
            and entries.source_row = valid_entries.source_row
)

select * from checked
