-- Stage-history rows of an opportunity that is not in the opportunities export (never
-- exported, or its row was quarantined): kept out of the stage transitions, flagged here so
-- that nothing disappears without a word.
with history as (
    select * from {{ ref('int_canonical__opportunity_stage_history') }}
),

opportunities as (
    select opportunity_id from {{ ref('int_canonical__opportunities') }}
),

final as (
    select
        'history_of_unknown_opportunity' as rule_code,
        'opportunity_stage_history' as entity,
        history.opportunity_id as record_id,
        history.source_system,
        history.source_file,
        history.source_row,
        'opportunity_id=' || history.opportunity_id || ', stage='
        || coalesce(history.opportunity_stage, '') as offending_values
    from history
    where not exists (
        select 1 from opportunities
        where opportunities.opportunity_id = history.opportunity_id
    )
)

select * from final
