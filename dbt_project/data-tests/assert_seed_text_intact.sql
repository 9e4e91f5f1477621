-- Seeds load verbatim on every engine (dbt-spark's session adapter once wrote the string 'None'
-- for an empty cell and broke texts holding an apostrophe: macros/seeds/spark_seed_rows.sql).
-- One row per seed text column holding the text 'None', and per seed whose count of text values
-- with an apostrophe differs from its CSV's (the counts below; tests/test_dbt_portable_seeds.py
-- checks them against seeds/*.csv).
{%- set seeds = {
    'stage_map': (['source_system', 'opportunity_stage', 'funnel_step'], 0),
    'funnel_steps': (['funnel_step', 'funnel_step_name_ja'], 0),
    'lead_source_channels': (['lead_source', 'lead_source_name_ja', 'channel', 'channel_name_ja'], 0),
    'kpi_definitions': (['kpi_code', 'kpi_name', 'kpi_name_ja', 'phase', 'unit', 'direction',
        'numerator_definition', 'denominator_definition', 'forecast_method', 'definition'], 3),
    'data_quality_rules': (['rule_code', 'entity', 'severity', 'excluded_from', 'description',
        'what_to_do'], 24),
} %}
{%- for seed, (columns, apostrophes) in seeds.items() %}
{%- for column in columns %}
select
    '{{ seed }}' as seed_name,
    '{{ column }}' as column_name,
    'the text None (an empty cell?)' as problem,
    count(*) as values_found
from {{ ref(seed) }}
where {{ column }} = 'None'
having count(*) > 0
union all
{%- endfor %}
select
    '{{ seed }}' as seed_name,
    cast(null as {{ dbt.type_string() }}) as column_name,
    'values with an apostrophe (expected {{ apostrophes }})' as problem,
    sum(
        {%- for column in columns %}
        case when {{ dbt.position('chr(39)', column) }} > 0 then 1 else 0 end
        {%- if not loop.last %} +{% endif %}
        {%- endfor %}
    ) as values_found
from {{ ref(seed) }}
having sum(
    {%- for column in columns %}
    case when {{ dbt.position('chr(39)', column) }} > 0 then 1 else 0 end
    {%- if not loop.last %} +{% endif %}
    {%- endfor %}
) <> {{ apostrophes }}
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
