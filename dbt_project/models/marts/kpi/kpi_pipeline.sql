-- Pipeline (パイプライン) on the as-of date by scope × funnel step × expected close month.
-- An opportunity counts when it is open on the as-of date (created by then, not won or lost by
-- then, in a stage with a positive probability: int_open_pipeline_as_of), in the funnel step
-- of the stage it was in on that date (its latest stage entered by then). Weighted pipeline
-- = amount in the reporting currency × that stage's default probability. scope_type 'company'
-- (scope_id 'company'), 'team' (owner's team) and 'rep' (owner). The mart is empty when
-- nothing is open.
-- A deal without an amount is unknown, not worth 0: open_amount and weighted_amount sum the
-- known amounts and are null when no deal of the row has one; open_opportunities_unknown_amount
-- counts the open deals left out of those sums.
with open_pipeline as (
    select * from {{ ref('int_open_pipeline_as_of') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

transitions as (
    select * from {{ ref('fct_opportunity_stage_transitions') }}
),

stage_on_as_of as (
    select
        opportunity_id,
        coalesce(funnel_step, 'unmapped') as funnel_step,
        funnel_step_order,
        row_number() over (
            partition by opportunity_id order by stage_sequence desc
        ) as recency
    from transitions
    where cast(stage_entered_at as date) <= {{ as_of_date() }}
),

deals as (
    select
        open_pipeline.opportunity_id,
        coalesce(open_pipeline.rep_id, 'unassigned') as rep_id,
        coalesce(opportunities.team_id, 'unassigned') as team_id,
        coalesce(stage_on_as_of.funnel_step, 'unmapped') as funnel_step,
        stage_on_as_of.funnel_step_order,
        cast({{ dbt.date_trunc('month', 'open_pipeline.close_date') }} as date)
            as expected_close_month_start_date,
        open_pipeline.amount_reporting,
        open_pipeline.weighted_amount,
        opportunities.reporting_currency
    from open_pipeline
    inner join opportunities
        on open_pipeline.opportunity_id = opportunities.opportunity_id
    left join stage_on_as_of
        on
            open_pipeline.opportunity_id = stage_on_as_of.opportunity_id
            and stage_on_as_of.recency = 1
),

scoped as (
    select
        'company' as scope_type,
        'company' as scope_id,
        deals.*
    from deals
    union all
    select
        'team' as scope_type,
        team_id as scope_id,
        deals.*
    from deals
    union all
    select
        'rep' as scope_type,
        rep_id as scope_id,
        deals.*
    from deals
),

grouped as (
    select
        scope_type,
        scope_id,
        funnel_step,
        expected_close_month_start_date,
        min(funnel_step_order) as funnel_step_order,
        count(*) as open_opportunities,
        sum(case when amount_reporting is null then 1 else 0 end)
            as open_opportunities_unknown_amount,
        sum(amount_reporting) as open_amount,
        sum(weighted_amount) as weighted_amount,
        max(reporting_currency) as currency
    from scoped
    group by 1, 2, 3, 4
),

final as (
    select
        {{ dbt.hash(
            "scope_type || '|' || scope_id || '|' || funnel_step || '|' || "
            ~ "coalesce(cast(expected_close_month_start_date as " ~ dbt.type_string() ~ "), 'none')"
        ) }} as pipeline_id,
        {{ as_of_date() }} as as_of_date,
        scope_type,
        scope_id,
        funnel_step,
        cast(funnel_step_order as integer) as funnel_step_order,
        expected_close_month_start_date,
        coalesce(
            expected_close_month_start_date
            < cast({{ dbt.date_trunc('month', as_of_date()) }} as date),
            false
        ) as is_past_expected_close,
        cast(open_opportunities as bigint) as open_opportunities,
        cast(open_opportunities_unknown_amount as bigint) as open_opportunities_unknown_amount,
        cast(open_amount as {{ type_money() }}) as open_amount,
        cast(weighted_amount as {{ type_money() }}) as weighted_amount,
        coalesce(currency, '{{ var("reporting_currency") }}') as currency
    from grouped
)

select * from final
