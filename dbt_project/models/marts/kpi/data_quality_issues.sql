-- One row per data defect found in the loaded exports: the rule broken (seed
-- data_quality_rules, severity and threshold configurable through dbt var
-- data_quality_rules), the record with its source file and row, the offending values, the
-- KPIs the record is kept out of and what to do. A defect in one row is flagged here and kept
-- out of the KPIs it would distort; it never stops the publication of everything else
-- (test assert_data_quality_within_thresholds blocks only when a rule's flagged share exceeds
-- its threshold). No personal data: ids, dates and codes only.
{%- set text = dbt.type_string() %}
with defects as (
    select * from {{ ref('int_opportunity_defects') }}
    union all
    select * from {{ ref('int_lead_defects') }}
    union all
    select * from {{ ref('int_user_defects') }}
    union all
    select * from {{ ref('int_duplicate_key_defects') }}
    union all
    select * from {{ ref('int_value_defects') }}
    union all
    select * from {{ ref('int_stage_history_defects') }}
),

rules as (
    select * from {{ ref('int_data_quality_rules') }}
),

final as (
    select
        {{ dbt.hash(
            "defects.rule_code || '|' || defects.entity || '|' || defects.record_id || '|' || "
            ~ "coalesce(defects.source_file, '') || '|' || "
            ~ "coalesce(cast(defects.source_row as " ~ text ~ "), '') || '|' || "
            ~ "coalesce(defects.offending_values, '')"
        ) }} as issue_id,
        defects.rule_code,
        rules.severity,
        defects.entity,
        defects.record_id,
        defects.source_system,
        defects.source_file,
        cast(defects.source_row as bigint) as source_row,
        defects.offending_values,
        rules.excluded_from,
        rules.description,
        rules.what_to_do,
        {{ as_of_date() }} as as_of_date
    from defects
    inner join rules
        on defects.rule_code = rules.rule_code
)

select * from final
