-- One row per opportunity and funnel step it reached, with when it first reached it and how
-- that is known (transition_source of that entry: observed, snapshot or inferred).
-- Reaching a later step counts as reaching every earlier one (stages can be skipped).
with stages as (
    select * from {{ ref('int_opportunity_stages_mapped') }}
    where funnel_step_order is not null
),

funnel_steps as (
    select * from {{ ref('funnel_steps') }}
),

reaching_entries as (
    select
        stages.opportunity_id,
        funnel_steps.funnel_step,
        funnel_steps.funnel_step_order,
        stages.stage_entered_at,
        stages.transition_source,
        row_number() over (
            partition by stages.opportunity_id, funnel_steps.funnel_step
            order by stages.stage_entered_at, stages.stage_sequence
        ) as entry_rank
    from stages
    inner join funnel_steps
        on stages.funnel_step_order >= funnel_steps.funnel_step_order
),

final as (
    select
        opportunity_id,
        funnel_step,
        funnel_step_order,
        stage_entered_at as reached_at,
        transition_source as reached_transition_source
    from reaching_entries
    where entry_rank = 1
)

select * from final
