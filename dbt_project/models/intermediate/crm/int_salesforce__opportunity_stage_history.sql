{#- Salesforce stage changes in the canonical opportunity_stage_history entity: the kept rows
    of int_salesforce__opportunity_stage_history_checked. -#}
with

checked as (
    select * from {{ ref('int_salesforce__opportunity_stage_history_checked') }}
),

kept as (
    select
        opportunity_id,
        opportunity_stage,
        changed_at,
        changed_by_id,
        source_system,
        source_file,
        source_row
    from checked
    where rejection_reason is null
)

select * from kept
