-- The data-quality rules (seed data_quality_rules) with the user's overrides from dbt var
-- data_quality_rules ({"rule_code": {"severity": ..., "max_flagged_share": ...}}), so a
-- severity or threshold is changed by configuration, never by editing the tracked seed.
{%- set overrides = var('data_quality_rules', {}) or {} %}
{%- for rule_code, override in overrides.items() %}
    {%- if override.get('severity') and override.get('severity') not in ('error', 'warning', 'info') %}
        {{ exceptions.raise_compiler_error(
            "dbt var data_quality_rules." ~ rule_code ~ ".severity must be error, warning or info, not '"
            ~ override.get('severity') ~ "'"
        ) }}
    {%- endif %}
{%- endfor %}
with rules as (
    select * from {{ ref('data_quality_rules') }}
),

final as (
    select
        rule_code,
        entity,
        {%- if overrides %}
        case
            when 1 = 0 then severity
            {%- for rule_code, override in overrides.items() if override.get('severity') %}
            when rule_code = '{{ rule_code }}' then '{{ override["severity"] }}'
            {%- endfor %}
            else severity
        end as severity,
        case
            when 1 = 0 then max_flagged_share
            {%- for rule_code, override in overrides.items() if 'max_flagged_share' in override %}
            when rule_code = '{{ rule_code }}' then
                {%- if override['max_flagged_share'] is none %} cast(null as decimal(9, 6))
                {%- else %} cast({{ override['max_flagged_share'] | float }} as decimal(9, 6))
                {%- endif %}
            {%- endfor %}
            else max_flagged_share
        end as max_flagged_share,
        {%- else %}
        severity,
        max_flagged_share,
        {%- endif %}
        excluded_from,
        description,
        what_to_do
    from rules
)

select * from final
