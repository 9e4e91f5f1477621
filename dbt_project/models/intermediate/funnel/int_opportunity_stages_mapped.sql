-- Stage entries of every opportunity, mapped to canonical funnel steps, with exit times.
-- transition_source says how an entry is known:
--   'observed' from the export's stage history (OpportunityHistory, HubSpot date entered, ...);
--   'snapshot' a change seen between two nightly snapshots of an export without history
--              (entered at the snapshot that first saw it);
--   'inferred' no history at all: the stage first seen is assumed entered at creation.
with history as (
    select * from {{ ref('int_canonical__opportunity_stage_history') }}
),

opportunities as (
    select * from {{ ref('int_canonical__opportunities') }}
),

snapshots as (
    select * from {{ opportunity_snapshots() }}
),

stage_lookup as (
    select * from {{ ref('int_stage_map_resolved') }}
),

with_history as (
    select distinct opportunity_id from history
),

observed as (
    select
        history.source_system,
        history.opportunity_id,
        history.opportunity_stage,
        history.stage_entered_at,
        'observed' as transition_source
    from history
    -- History of an opportunity missing from the export (or quarantined) stays out of the
    -- transitions; rule history_of_unknown_opportunity flags it in data_quality_issues.
    where exists (
        select 1 from opportunities
        where opportunities.opportunity_id = history.opportunity_id
    )
),

snapshot_versions as (
    select
        snapshots.source_system,
        snapshots.opportunity_id,
        snapshots.opportunity_stage,
        snapshots.created_at,
        snapshots.is_closed,
        snapshots.dbt_valid_from,
        -- Versions seen by runs of one as-of date share dbt_valid_from (snapshot_at): the load
        -- time of the run that saw each one keeps them in the order they were seen.
        row_number() over (
            partition by snapshots.opportunity_id
            order by snapshots.dbt_valid_from, snapshots.loaded_at, snapshots.dbt_scd_id
        ) as version_number
    from snapshots
    left join with_history
        on snapshots.opportunity_id = with_history.opportunity_id
    where with_history.opportunity_id is null
),

from_snapshots as (
    select
        snapshot_versions.source_system,
        snapshot_versions.opportunity_id,
        snapshot_versions.opportunity_stage,
        case
            -- An open deal without a created date is taken to be in its first stage on the as-of
            -- date (it is in the export); a closed one has no stage date (won_date_unknown).
            when snapshot_versions.version_number = 1
                then coalesce(
                    snapshot_versions.created_at,
                    case
                        when not snapshot_versions.is_closed
                            then cast({{ as_of_date() }} as {{ dbt.type_timestamp() }})
                    end
                )
            else cast(snapshot_versions.dbt_valid_from as {{ dbt.type_timestamp() }})
        end as stage_entered_at,
        case
            when snapshot_versions.version_number = 1 then 'inferred' else 'snapshot'
        end as transition_source
    from snapshot_versions
    inner join opportunities
        on snapshot_versions.opportunity_id = opportunities.opportunity_id
),

-- Opportunities neither in history nor yet in a snapshot (the snapshot runs after staging).
current_only as (
    select
        opportunities.source_system,
        opportunities.opportunity_id,
        opportunities.opportunity_stage,
        coalesce(
            opportunities.created_at,
            case
                when not opportunities.is_closed
                    then cast({{ as_of_date() }} as {{ dbt.type_timestamp() }})
            end
        ) as stage_entered_at,
        'inferred' as transition_source
    from opportunities
    left join with_history
        on opportunities.opportunity_id = with_history.opportunity_id
    where
        with_history.opportunity_id is null
        and opportunities.opportunity_id not in (
            select snapshot_versions.opportunity_id from snapshot_versions
        )
),

entries as (
    select * from observed
    union all
    select * from from_snapshots
    union all
    select * from current_only
),

mapped as (
    select
        entries.opportunity_id,
        entries.source_system,
        entries.opportunity_stage,
        stage_lookup.funnel_step,
        stage_lookup.funnel_step_order,
        coalesce(stage_lookup.is_won, false) as is_won_stage,
        coalesce(stage_lookup.is_lost, false) as is_lost_stage,
        coalesce(stage_lookup.is_mapped, false) as is_mapped_stage,
        entries.stage_entered_at,
        entries.transition_source,
        row_number() over (
            partition by entries.opportunity_id
            -- A total order (the stage name breaks ties), so every run numbers stages alike.
            order by
                entries.stage_entered_at, stage_lookup.funnel_step_order, entries.opportunity_stage
        ) as stage_sequence
    from entries
    left join stage_lookup
        on
            entries.source_system = stage_lookup.source_system
            and entries.opportunity_stage = stage_lookup.opportunity_stage
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
