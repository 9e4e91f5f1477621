{{ config(severity="error", meta={"dagster": {"ref": {"name": "data_quality_issues"}}}) }}
-- The structural gate on row-level defects: a rule blocks publication when the share of its
-- entity's records it flags exceeds max_flagged_share (seed data_quality_rules, overridden
-- by dbt var data_quality_rules), or, for a rule of severity 'error' without a threshold, when
-- it flags anything. Below the threshold the defects are only reported (data_quality_issues)
-- and the marts publish. Each failing row names the rule, its share and threshold: fix the
-- rows listed in data_quality_issues, or raise the threshold in SALES_KPI_DBT_VARS, e.g.
-- {"data_quality_rules": {"won_before_lead_created": {"max_flagged_share": 0.1}}}.
{%- set entities = {
    'leads': 'int_canonical__leads',
    'opportunities': 'int_canonical__opportunities',
    'opportunity_stage_history': 'int_canonical__opportunity_stage_history',
    'users': 'int_canonical__users',
    'accounts': 'int_canonical__accounts',
    'activities': 'int_canonical__activities',
    'subscriptions': 'stg_canonical__subscriptions',
    'orders': 'stg_canonical__orders',
    'spend': 'stg_canonical__spend',
    'exchange_rates': 'int_canonical__exchange_rates',
} %}
with entity_records as (
    {%- for entity, model in entities.items() %}
    select
        '{{ entity }}' as entity,
        count(*) as records
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

flagged as (
    select
        rule_code,
        entity,
        max(severity) as severity,
        count(distinct record_id) as flagged_records
    from {{ ref('data_quality_issues') }}
    group by rule_code, entity
),

rules as (
    select * from {{ ref('int_data_quality_rules') }}
),

shares as (
    select
        flagged.rule_code,
        flagged.entity,
        flagged.severity,
        flagged.flagged_records,
        entity_records.records,
        cast(flagged.flagged_records as {{ type_double() }})
        / nullif(entity_records.records, 0) as flagged_share,
        rules.max_flagged_share
    from flagged
    inner join rules
        on flagged.rule_code = rules.rule_code
    left join entity_records
        on flagged.entity = entity_records.entity
)

select *
from shares
where
    flagged_share > max_flagged_share
    or (severity = 'error' and max_flagged_share is null and flagged_records > 0)
