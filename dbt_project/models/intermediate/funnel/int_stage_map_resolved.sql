-- Every (source system, stage name) in the data, resolved through the seed stage_map: the
-- source's own rows first, else the canonical stage names (a mapped export can map its values
-- to canonical names in its mapping file instead of adding seed rows).
with opportunities as (
    select * from {{ ref('int_canonical__opportunities') }}
),

history as (
    select * from {{ ref('int_canonical__opportunity_stage_history') }}
),

snapshots as (
    select * from {{ opportunity_snapshots() }}
),

stage_map as (
    select * from {{ ref('stage_map') }}
),

funnel_steps as (
    select * from {{ ref('funnel_steps') }}
),

observed_stages as (
    select distinct
        source_system,
        opportunity_stage
    from opportunities
    union
    select distinct
        source_system,
        opportunity_stage
    from history
    union
    -- Snapshot versions count only for opportunities without a stage history (the only ones
    -- whose history is built from snapshots).
    select distinct
        snapshots.source_system,
        snapshots.opportunity_stage
    from snapshots
    where snapshots.opportunity_id not in (
            select history.opportunity_id from history
        )
),

final as (
    select
        observed_stages.source_system,
        observed_stages.opportunity_stage,
        coalesce(own_map.funnel_step, canonical_map.funnel_step) as funnel_step,
        funnel_steps.funnel_step_order,
        coalesce(own_map.is_won, canonical_map.is_won, false) as is_won,
        coalesce(own_map.is_lost, canonical_map.is_lost, false) as is_lost,
        coalesce(own_map.default_probability, canonical_map.default_probability)
            as default_probability,
        coalesce(own_map.funnel_step, canonical_map.funnel_step) is not null as is_mapped
    from observed_stages
    left join stage_map as own_map
        on
            observed_stages.source_system = own_map.source_system
            and observed_stages.opportunity_stage = own_map.opportunity_stage
    left join stage_map as canonical_map
        on
            canonical_map.source_system = 'canonical'
            and observed_stages.opportunity_stage = canonical_map.opportunity_stage
    left join funnel_steps
        on coalesce(own_map.funnel_step, canonical_map.funnel_step) = funnel_steps.funnel_step
)

select * from final
