-- Opportunities open on the as-of date with the stage they were in then, their expected close
-- date and their weighted amount (amount in the reporting currency × the stage's default
-- probability): the pipeline expected to close in the rest of a period (着地見込み).
with opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

stages as (
    select * from {{ ref('int_opportunity_stages_mapped') }}
),

stage_lookup as (
    select * from {{ ref('int_stage_map_resolved') }}
),

stage_on_as_of as (
    select
        stages.opportunity_id,
        stage_lookup.default_probability,
        row_number() over (
            partition by stages.opportunity_id
            order by stages.stage_entered_at desc, stages.stage_sequence desc
        ) as recency
    from stages
    inner join stage_lookup
        on
            stages.source_system = stage_lookup.source_system
            and stages.opportunity_stage = stage_lookup.opportunity_stage
    where cast(stages.stage_entered_at as date) <= {{ as_of_date() }}
),

final as (
    select
        opportunities.opportunity_id,
        opportunities.rep_id,
        opportunities.close_date,
        opportunities.amount_reporting,
        stage_on_as_of.default_probability,
        opportunities.amount_reporting * stage_on_as_of.default_probability as weighted_amount
    from opportunities
    inner join stage_on_as_of
        on
            opportunities.opportunity_id = stage_on_as_of.opportunity_id
            and stage_on_as_of.recency = 1
    where
        -- A deal without a created date is open in the export: it counts on the as-of date.
        coalesce(opportunities.created_date, {{ as_of_date() }}) <= {{ as_of_date() }}
        and coalesce(opportunities.won_date, opportunities.lost_date, cast('9999-12-31' as date))
        > {{ as_of_date() }}
        and stage_on_as_of.default_probability > 0
)

select * from final
