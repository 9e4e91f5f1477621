-- KPI definitions (KPI定義) for BI tools: the seed kpi_definitions, declared once.
select * from {{ ref('kpi_definitions') }}
