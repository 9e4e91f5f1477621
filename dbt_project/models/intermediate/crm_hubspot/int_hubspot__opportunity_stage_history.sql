{#- HubSpot stage history in the canonical opportunity_stage_history entity, from the deals'
    `Date entered "<Stage> (<Pipeline>)"` properties (stg_hubspot__deal_stage_dates, the wide
    columns unpivoted): one row per stage a kept deal has a date for, in the deal's pipeline
    (a date-entered column of another pipeline is left out; a deal without a pipeline keeps
    every column). The stage is the column's stage label (stg_hubspot__config
    date_entered_columns). HubSpot keeps only the latest entry into a stage, and "Date exited"
    adds nothing to one-row-per-entry history, so it is not read. With source.yml
    infer_initial_stage true, a deal without any date gets one row: its current stage at its
    Create Date. The lineage is the deal row. -#}
with

opportunities as (
    select * from {{ ref('int_hubspot__opportunities_checked') }}
    where rejection_reason is null
),

deals as (
    select * from {{ ref('stg_hubspot__deal') }}
),

stage_dates as (
    select * from {{ ref('stg_hubspot__deal_stage_dates') }}
),

config as (
    select * from {{ ref('stg_hubspot__config') }}
),

-- Each date-entered column's stage and pipeline labels.
stage_columns as (
    select
        source_system,
        entry_key as column_name,
        max(case when attribute = 'stage' then trim(config_value) end) as stage_label,
        max(case when attribute = 'pipeline' then trim(config_value) end) as pipeline_label
    from config
    where config_key = 'date_entered_columns'
    group by source_system, entry_key
),

infer_initial_stage as (
    select
        source_system,
        {{ dbt.bool_or(crm_boolean('config_value')) }} as is_inferred
    from config
    where config_key = 'infer_initial_stage'
    group by source_system
),

entered as (
    select
        opportunities.opportunity_id,
        stage_columns.stage_label as opportunity_stage,
        stage_dates.entered_at as changed_at,
        cast(null as {{ dbt.type_string() }}) as changed_by_id,
        opportunities.source_system,
        opportunities.source_file,
        opportunities.source_row
    from opportunities
    inner join deals
        on opportunities.source_system = deals.source_system
            and opportunities.source_file = deals.source_file
            and opportunities.source_row = deals.source_row
    inner join stage_dates
        on opportunities.source_system = stage_dates.source_system
            and opportunities.source_file = stage_dates.source_file
            and opportunities.source_row = stage_dates.source_row
    inner join stage_columns
        on stage_dates.source_system = stage_columns.source_system
            and stage_dates.column_name = stage_columns.column_name
    where deals.deal_pipeline is null
        or {{ hubspot_key('stage_columns.pipeline_label') }}
        = {{ hubspot_key('deals.deal_pipeline') }}
),

inferred as (
    select
        opportunities.opportunity_id,
        opportunities.opportunity_stage,
        opportunities.created_at as changed_at,
        cast(null as {{ dbt.type_string() }}) as changed_by_id,
        opportunities.source_system,
        opportunities.source_file,
        opportunities.source_row
    from opportunities
    inner join infer_initial_stage
        on opportunities.source_system = infer_initial_stage.source_system
    where infer_initial_stage.is_inferred
        and not exists (
            select 1 from entered
            where entered.source_system = opportunities.source_system
                and entered.source_file = opportunities.source_file
                and entered.source_row = opportunities.source_row
        )
),

history as (
    select * from entered
    union all
    select * from inferred
)

select * from history
