{#- The stage-history snapshot of opportunities: model int_opportunity_snapshots, a view of dbt's
    snapshot snap_opportunities, or on Spark (no Delta Lake) the append-only model that stands
    in for it. -#}
{% macro opportunity_snapshots() -%}
    {{ return(ref('int_opportunity_snapshots')) }}
{%- endmacro %}
