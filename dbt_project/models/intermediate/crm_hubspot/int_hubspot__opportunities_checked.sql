{#- Every deal row with its canonical opportunity values and the reason it is rejected (null:
    kept). The rules of orchestration/sources/hubspot.py (_deal_row):

    - the stage is "Deal Stage" without a trailing " (<Pipeline>)" some exports add;
    - closed/won: the stage is one of source.yml won_stages (default Closed Won) or lost_stages
      (default Closed Lost), compared by lookup key; is_closed = won or lost; the lost reason is
      kept for a lost deal only;
    - the type is "Deal Type" through deal_type_map over the defaults (DEAL_TYPES: New Business
      -> new, Existing Business -> expansion, new, expansion, renewal); empty:
      default_deal_type, else `new`;
    - currency: "Currency", else source.yml currency, else JPY;
    - the account is the first associated company; the lead is the deal's lead of
      int_hubspot__deal_contact_links.

    A deal without a stage or a Create Date is rejected; where the former Python converter stopped the whole
    run with a mapping error (a Deal Type missing from its map), this model rejects the row with
    a reason naming the value and the map. -#}
{%- set deal_types = {
    'newbusiness': 'new',
    'existingbusiness': 'expansion',
    'new': 'new',
    'expansion': 'expansion',
    'renewal': 'renewal',
} -%}
with

deals as (
    select * from {{ ref('stg_hubspot__deal') }}
),

config as (
    select * from {{ ref('stg_hubspot__config') }}
),

links as (
    select * from {{ ref('int_hubspot__deal_contact_links') }}
    where is_lead_of_deal
),

owner_values as (
    select * from {{ ref('int_hubspot__owner_values') }}
),

settings as (
    select
        source_system,
        max(case when config_key = 'currency' then config_value end) as currency,
        max(case when config_key = 'default_deal_type' then config_value end)
            as default_deal_type
    from config
    group by source_system
),

-- source.yml won_stages / lost_stages (one label or a list), by lookup key.
closing_stages as (
    select distinct
        source_system,
        config_key,
        {{ hubspot_key('config_value') }} as stage_key
    from config
    where config_key in ('won_stages', 'lost_stages') and config_value is not null
),

deal_type_map as (
    select
        source_system,
        {{ hubspot_key('entry_key') }} as value_key,
        max(config_value) as opportunity_type
    from config
    where config_key = 'deal_type_map'
    group by source_system, {{ hubspot_key('entry_key') }}
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

-- A `Date entered` value of the deal's pipeline that cannot be read as a timestamp (the first
-- such column), which rejects the deal.
unreadable_stage_dates as (
    select
        stage_dates.source_system,
        stage_dates.source_file,
        stage_dates.source_row,
        min(
            'cannot read ''Date entered "' || stage_columns.stage_label || ' ('
            || stage_columns.pipeline_label || ')"'' as a timestamp'
        ) as unreadable_reason
    from {{ ref('stg_hubspot__deal_stage_dates') }} as stage_dates
    inner join stage_columns
        on stage_dates.source_system = stage_columns.source_system
            and stage_dates.column_name = stage_columns.column_name
    inner join deals
        on stage_dates.source_system = deals.source_system
            and stage_dates.source_file = deals.source_file
            and stage_dates.source_row = deals.source_row
    where stage_dates.entered_at is null
        and (
            deals.deal_pipeline is null
            or {{ hubspot_key('stage_columns.pipeline_label') }}
            = {{ hubspot_key('deals.deal_pipeline') }}
        )
    group by stage_dates.source_system, stage_dates.source_file, stage_dates.source_row
),

-- Rule: a later row with the same Record ID supersedes the earlier one.
superseded as (
    select
        source_system,
        source_file,
        source_row,
        {{ hubspot_superseded_reason('deal_id') }} as superseded_reason
    from deals
    where not is_deleted and deal_id is not null
),

staged as (
    select
        deals.*,
        case
            when deals.deal_pipeline is not null
                and right(deals.deal_stage, length(deals.deal_pipeline) + 3)
                = ' (' || deals.deal_pipeline || ')'
                then nullif(trim(left(
                        deals.deal_stage, length(deals.deal_stage) - length(deals.deal_pipeline) - 3
                    )), '')
            else deals.deal_stage
        end as opportunity_stage
    from deals
),

deals_with_rules as (
    select
        staged.*,
        superseded.superseded_reason,
        unreadable_stage_dates.unreadable_reason,
        coalesce(settings.currency, 'JPY') as default_currency,
        coalesce(settings.default_deal_type, 'new') as default_deal_type,
        coalesce(
            deal_type_map.opportunity_type,
            case {{ hubspot_key('staged.deal_type') }}
                {%- for key, value in deal_types.items() %}
                    when '{{ key }}' then '{{ value }}'
                {%- endfor %}
            end
        ) as mapped_deal_type,
        case
            when exists (
                    select 1 from closing_stages
                    where closing_stages.source_system = staged.source_system
                        and closing_stages.config_key = 'won_stages'
                )
                then won.stage_key is not null
            else {{ hubspot_key('staged.opportunity_stage') }} = 'closedwon'
        end as is_won,
        case
            when exists (
                    select 1 from closing_stages
                    where closing_stages.source_system = staged.source_system
                        and closing_stages.config_key = 'lost_stages'
                )
                then lost.stage_key is not null
            else {{ hubspot_key('staged.opportunity_stage') }} = 'closedlost'
        end as is_lost,
        owner_values.owner_id as resolved_owner_id,
        links.contact_id as lead_contact_id
    from staged
    left join superseded
        on staged.source_system = superseded.source_system
            and staged.source_file = superseded.source_file
            and staged.source_row = superseded.source_row
    left join unreadable_stage_dates
        on staged.source_system = unreadable_stage_dates.source_system
            and staged.source_file = unreadable_stage_dates.source_file
            and staged.source_row = unreadable_stage_dates.source_row
    left join settings
        on staged.source_system = settings.source_system
    left join deal_type_map
        on staged.source_system = deal_type_map.source_system
            and {{ hubspot_key('staged.deal_type') }} = deal_type_map.value_key
    left join closing_stages as won
        on staged.source_system = won.source_system
            and won.config_key = 'won_stages'
            and {{ hubspot_key('staged.opportunity_stage') }} = won.stage_key
    left join closing_stages as lost
        on staged.source_system = lost.source_system
            and lost.config_key = 'lost_stages'
            and {{ hubspot_key('staged.opportunity_stage') }} = lost.stage_key
    left join owner_values
        on staged.source_system = owner_values.source_system
            and staged.deal_owner = owner_values.owner_value
    left join links
        on staged.source_system = links.source_system
            and staged.deal_id = links.deal_id
),

-- The rejection rules, in this order (the first that applies is the reason): deleted by a sync; superseded; no Record ID;
-- no stage; no Create Date; a Deal Type missing from its map.
checked as (
    select
        {{ crm_namespaced('source_system', 'deal_id') }} as opportunity_id,
        {{ crm_namespaced('source_system', hubspot_first_id('associated_company_ids')) }}
            as account_id,
        {{ crm_namespaced('source_system', 'resolved_owner_id') }} as owner_id,
        {{ crm_namespaced('source_system', 'lead_contact_id') }} as lead_id,
        cast(null as {{ dbt.type_string() }}) as sdr_id,
        created_at,
        close_date,
        opportunity_stage,
        amount,
        cast(null as {{ dbt.type_string() }}) as product,
        coalesce(currency, default_currency) as currency,
        case
            when deal_type is null then default_deal_type
            else mapped_deal_type
        end as opportunity_type,
        is_won or is_lost as is_closed,
        is_won,
        case when is_lost then closed_lost_reason end as lost_reason,
        deal_id,
        case
            when is_deleted
                then 'deleted in HubSpot (_fivetran_deleted = true in the synced table)'
            when superseded_reason is not null then superseded_reason
            when deal_id is null then '''Record ID'' is empty'
            when opportunity_stage is null then '''Deal Stage'' is empty'
            when created_at is null and unreadable_value_reason is null
                then '''Create Date'' is empty'
            when unreadable_value_reason is not null then unreadable_value_reason
            when deal_type is not null and mapped_deal_type is null
                then 'Deal Type ''' || deal_type
                    || ''' is not in source.yml deal_type_map (value: new/expansion/renewal)'
            when unreadable_reason is not null then unreadable_reason
        end as rejection_reason,
        source_system,
        source_file,
        source_row
    from deals_with_rules
)

select * from checked
