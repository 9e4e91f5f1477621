{#- The stage-history snapshot of opportunities, as every model reads it (macro
    opportunity_snapshots()).
    - DuckDB, PostgreSQL: a view of dbt's snapshot snap_opportunities
      (snapshots/_snapshots.yml).
    - Spark: dbt's snapshots need Delta Lake (or Iceberg, Hudi) there and the local session
      writes Parquet, so this model is the snapshot: append-only, the same relation
      (snapshots.snap_opportunities) and the same rule (strategy check on opportunity_stage,
      is_closed, is_won; dated at snapshot_at, the as-of date; deleted opportunities are kept):
      every opportunity not yet seen, or whose checked columns changed since its latest
      version, gets a new version. Unlike the snapshot, an old version keeps dbt_valid_to null
      (nothing reads it: int_opportunity_stages_mapped orders versions by dbt_valid_from).
    The model exists on every engine so that every engine builds the same dbt nodes (the
    Dagster assets come from one manifest). -#}
{%- set spark = target.type == 'spark' -%}
{{ config(
    materialized=('incremental' if spark else 'view'),
    incremental_strategy=('append' if spark else none),
    schema=('snapshots' if spark else 'intermediate'),
    alias=('snap_opportunities' if spark else none),
) }}
{% if not spark -%}
select * from {{ ref('snap_opportunities') }}
{%- else -%}
with current_state as (
    select * from {{ ref('int_canonical__opportunities') }}
),

{% if is_incremental() %}
versions as (
    select
        opportunity_id,
        opportunity_stage,
        is_closed,
        is_won,
        row_number() over (
            partition by opportunity_id
            order by dbt_valid_from desc, dbt_updated_at desc, dbt_scd_id desc
        ) as version_rank
    from {{ this }}
),

latest as (
    select * from versions
    where version_rank = 1
),

changed as (
    select current_state.*
    from current_state
    left join latest
        on current_state.opportunity_id = latest.opportunity_id
    where
        latest.opportunity_id is null
        or not {{ dbt.equals('current_state.opportunity_stage', 'latest.opportunity_stage') }}
        or not {{ dbt.equals('current_state.is_closed', 'latest.is_closed') }}
        or not {{ dbt.equals('current_state.is_won', 'latest.is_won') }}
),
{% else %}
changed as (
    select * from current_state
),
{% endif %}

final as (
    select
        changed.*,
        {{ dbt.hash(
            "changed.opportunity_id || '|' || cast(changed.snapshot_at as " ~ dbt.type_string() ~ ")"
        ) }} as dbt_scd_id,
        changed.snapshot_at as dbt_updated_at,
        changed.snapshot_at as dbt_valid_from,
        cast(null as {{ dbt.type_timestamp() }}) as dbt_valid_to
    from changed
)

select * from final
{%- endif %}
