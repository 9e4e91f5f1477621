-- Time in stage (ステージ滞留日数) and stage conversion (ステージ転換率) by period of stage EXIT
-- × scope × funnel step, at every reporting grain (day, ISO week, month, fiscal quarter, fiscal
-- year: int_date_periods). Period basis: a stage counts in the period it was left
-- (stage_exited_at, on or before the as-of date), once per grain; the current stage of an
-- opportunity has no exit and is not counted, and the lost step is no stage to leave. A forward
-- exit moves to a later funnel step (a skipped step counts); a lost exit moves to a lost stage.
-- observed_exits counts exits known from the export's stage history (transition_source
-- 'observed'); the rest rest on snapshots or on the creation date (inferred). Percentiles are
-- continuous and computed per period from its exits; they cannot be re-aggregated, the sums can.
-- Scopes (where in the funnel a segment or product leaks): company, team (of the opportunity
-- owner), industry (業種) and company_size (従業員規模) of the account, product (商材) of the
-- deal; filter on one scope_type before summing.
with transitions as (
    select * from {{ ref('fct_opportunity_stage_transitions') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

date_periods as (
    select * from {{ ref('int_date_periods') }}
),

exits as (
    select
        cast(transitions.stage_exited_at as date) as exited_date,
        coalesce(opportunities.team_id, 'unassigned') as team_id,
        coalesce(accounts.industry, 'unknown') as industry,
        coalesce(accounts.employee_band, 'unknown') as company_size,
        opportunities.product,
        coalesce(transitions.funnel_step, 'unmapped') as funnel_step,
        transitions.funnel_step_order,
        transitions.days_in_stage,
        -- Whole seconds (days_in_stage = seconds / 86400): summed as integers, the sums and means
        -- are exact and the same on every run whatever the order of summation.
        cast(round(transitions.days_in_stage * 86400) as bigint) as seconds_in_stage,
        transitions.transition_source,
        coalesce(next_stage.funnel_step_order > transitions.funnel_step_order, false) as is_forward_exit,
        coalesce(next_stage.is_lost_stage, false) as is_lost_exit
    from transitions
    inner join opportunities
        on transitions.opportunity_id = opportunities.opportunity_id
    left join accounts
        on opportunities.account_id = accounts.account_id
    left join transitions as next_stage
        on
            transitions.opportunity_id = next_stage.opportunity_id
            and transitions.stage_sequence + 1 = next_stage.stage_sequence
    where
        transitions.stage_exited_at is not null
        and cast(transitions.stage_exited_at as date) <= {{ as_of_date() }}
        and not transitions.is_lost_stage
),

-- Each exit once per scope it belongs to.
scoped_exits as (
    {{ union_scopes('exits', {
        'company': "'company'",
        'team': 'team_id',
        'industry': 'industry',
        'company_size': 'company_size',
        'product': 'product',
    }) }}
),

-- Each exit once per grain, in the period its exit date falls in.
period_exits as (
    select
        date_periods.period_grain,
        date_periods.period_start_date,
        date_periods.period_end_date,
        scoped_exits.*
    from scoped_exits
    inner join date_periods
        on scoped_exits.exited_date = date_periods.date_day
),

grouped as (
    select
        period_grain,
        period_start_date,
        period_end_date,
        scope_type,
        scope_id,
        funnel_step,
        min(funnel_step_order) as funnel_step_order,
        count(*) as transitions_exited,
        sum(seconds_in_stage) as sum_seconds_in_stage,
        count(seconds_in_stage) as exits_with_duration,
        {{ percentile_cont('days_in_stage', 0.5) }} as median_days_in_stage,
        {{ percentile_cont('days_in_stage', 0.75) }} as p75_days_in_stage,
        {{ percentile_cont('days_in_stage', 0.9) }} as p90_days_in_stage,
        sum(case when is_forward_exit then 1 else 0 end) as forward_exits,
        sum(case when is_lost_exit then 1 else 0 end) as lost_exits,
        sum(case when transition_source = 'observed' then 1 else 0 end) as observed_exits
    from period_exits
    group by 1, 2, 3, 4, 5, 6
),

final as (
    select
        {{ dbt.hash(
            "period_grain || '|' || cast(period_start_date as " ~ dbt.type_string() ~ ") || '|' || "
            ~ "scope_type || '|' || scope_id || '|' || funnel_step"
        ) }} as stage_velocity_id,
        period_grain,
        period_start_date,
        period_end_date,
        scope_type,
        scope_id,
        funnel_step,
        cast(funnel_step_order as integer) as funnel_step_order,
        cast(transitions_exited as bigint) as transitions_exited,
        -- Exact integer seconds, rounded to 6 decimals of a day (under 0.1 s) once at the end.
        cast({{ round_double('cast(sum_seconds_in_stage as ' ~ type_double() ~ ') / 86400.0', 6) }} as {{ type_double() }})
            as sum_days_in_stage,
        cast(
            {{ round_double(
                'cast(sum_seconds_in_stage as ' ~ type_double() ~ ') / 86400.0 / nullif(exits_with_duration, 0)', 6
            ) }}
            as {{ type_double() }}
        ) as mean_days_in_stage,
        cast(median_days_in_stage as {{ type_double() }}) as median_days_in_stage,
        cast(p75_days_in_stage as {{ type_double() }}) as p75_days_in_stage,
        cast(p90_days_in_stage as {{ type_double() }}) as p90_days_in_stage,
        cast(forward_exits as bigint) as forward_exits,
        -- Stage conversion (ステージ転換率) = forward_exits / transitions_exited.
        {{ safe_divide('forward_exits', 'transitions_exited') }} as forward_rate,
        cast(lost_exits as bigint) as lost_exits,
        -- Loss rate from the stage = lost_exits / transitions_exited.
        {{ safe_divide('lost_exits', 'transitions_exited') }} as lost_rate,
        cast(observed_exits as bigint) as observed_exits
    from grouped
)

select * from final
