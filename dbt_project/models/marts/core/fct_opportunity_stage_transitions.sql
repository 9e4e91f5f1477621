-- One row per stage an opportunity entered (ステージ遷移), with time in stage.
with stages as (
    select * from {{ ref('int_opportunity_stages_mapped') }}
),

final as (
    select
        {{ dbt.hash("stages.opportunity_id || '|' || cast(stages.stage_sequence as " ~ dbt.type_string() ~ ")") }}
            as stage_transition_id,
        stages.opportunity_id,
        stages.stage_sequence,
        stages.opportunity_stage,
        -- A stage in no stage map (rule unknown_stage in data_quality_issues): 'unmapped'.
        coalesce(stages.funnel_step, 'unmapped') as funnel_step,
        stages.funnel_step_order,
        stages.is_won_stage,
        stages.is_lost_stage,
        stages.is_mapped_stage,
        stages.stage_entered_at,
        stages.stage_exited_at,
        stages.next_opportunity_stage,
        stages.stage_exited_at is null as is_current_stage,
        case
            when stages.stage_exited_at is not null
                then cast({{ dbt.datediff('stages.stage_entered_at', 'stages.stage_exited_at', 'second') }}
                    as {{ type_double() }}) / 86400.0
        end as days_in_stage,
        stages.transition_source
    from stages
)

select * from final
