-- KPI definitions (KPI定義) for BI tools: the seed kpi_definitions, declared once.
select
    kpi_code,
    kpi_name,
    kpi_name_ja,
    phase,
    unit,
    direction,
    numerator_definition,
    denominator_definition,
    forecast_method,
    definition
from {{ ref('kpi_definitions') }}
