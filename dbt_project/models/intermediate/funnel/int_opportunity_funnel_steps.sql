-- One row per opportunity and funnel step it reached, with when it first reached it.
-- Reaching a later step counts as reaching every earlier one (stages can be skipped).
with stages as (
    select * from {{ ref('int_opportunity_stages_mapped') }}
    where funnel_step_order is not null
),

funnel_steps as (
    select * from {{ ref('funnel_steps') }}
),

final as (
    select
        stages.opportunity_id,
        funnel_steps.funnel_step,
        funnel_steps.funnel_step_order,
        min(stages.stage_entered_at) as reached_at
    from stages
    inner join funnel_steps
        on stages.funnel_step_order >= funnel_steps.funnel_step_order
    group by
        stages.opportunity_id,
        funnel_steps.funnel_step,
        funnel_steps.funnel_step_order
)

select * from final
