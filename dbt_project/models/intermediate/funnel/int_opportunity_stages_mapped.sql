-- Stage history mapped to canonical funnel steps, with when each stage was exited.
-- Opportunities without any history get one inferred row: their current stage since creation.
with history as (
    select * from {{ ref('stg_canonical__opportunity_stage_history') }}
),

opportunities as (
    select * from {{ ref('stg_canonical__opportunities') }}
),

stage_map as (
    select * from {{ ref('stage_map') }}
),

funnel_steps as (
    select * from {{ ref('funnel_steps') }}
),

observed as (
    select
        source_system,
        opportunity_id,
        opportunity_stage,
        stage_entered_at,
        'observed' as transition_source
    from history
),

inferred as (
    select
        opportunities.source_system,
        opportunities.opportunity_id,
        opportunities.opportunity_stage,
        opportunities.created_at as stage_entered_at,
        'inferred' as transition_source
    from opportunities
    left join history
        on opportunities.opportunity_id = history.opportunity_id
    where history.opportunity_id is null
),

entries as (
    select * from observed
    union all
    select * from inferred
),

mapped as (
    select
        entries.opportunity_id,
        entries.source_system,
        entries.opportunity_stage,
        stage_map.funnel_step,
        funnel_steps.funnel_step_order,
        coalesce(stage_map.is_won, false) as is_won_stage,
        coalesce(stage_map.is_lost, false) as is_lost_stage,
        stage_map.opportunity_stage is not null as is_mapped_stage,
        entries.stage_entered_at,
        entries.transition_source,
        row_number() over (
            partition by entries.opportunity_id
            order by entries.stage_entered_at, funnel_steps.funnel_step_order
        ) as stage_sequence
    from entries
    left join stage_map
        on entries.source_system = stage_map.source_system
            and entries.opportunity_stage = stage_map.opportunity_stage
    left join funnel_steps
        on stage_map.funnel_step = funnel_steps.funnel_step
),

final as (
    select
        mapped.*,
        lead(mapped.stage_entered_at) over (
            partition by mapped.opportunity_id order by mapped.stage_sequence
        ) as stage_exited_at,
        lead(mapped.opportunity_stage) over (
            partition by mapped.opportunity_id order by mapped.stage_sequence
        ) as next_opportunity_stage
    from mapped
)

select * from final
