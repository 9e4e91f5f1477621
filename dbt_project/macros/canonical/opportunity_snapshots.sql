{#- The stage-history snapshot of opportunities: dbt snapshot snap_opportunities, or on Spark
    (no Delta Lake) the append-only model int_opportunity_snapshots in its place. -#}
{% macro opportunity_snapshots() -%}
    {%- if target.type == 'spark' -%}
        {{ return(ref('int_opportunity_snapshots')) }}
    {%- else -%}
        {{ return(ref('snap_opportunities')) }}
    {%- endif -%}
{%- endmacro %}
