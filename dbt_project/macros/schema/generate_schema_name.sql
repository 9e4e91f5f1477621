{#- Use the folder's schema name as is (staging, core, marts, ...), not <target>_<name>.
    On an engine that BI users read directly (PostgreSQL, Spark), the pipeline sets
    SALES_KPI_SCHEMA_PREFIX=work_: dbt builds into work_core, work_marts, ..., and the
    publication swaps the gated tables into core and marts (orchestration/engines/). Sources
    (raw schemas) are not prefixed. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set prefix = env_var('SALES_KPI_SCHEMA_PREFIX', '') | trim -%}
    {%- if custom_schema_name is none -%}
        {{ prefix }}{{ target.schema }}
    {%- else -%}
        {{ prefix }}{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
