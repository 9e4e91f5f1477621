{#- Every row of a relation once per scope: scopes maps each scope_type to the column (or
    expression) giving its scope_id, e.g. {'company': "'company'", 'industry': 'industry'}. -#}
{% macro union_scopes(relation, scopes) -%}
    {%- for scope_type, scope_column in scopes.items() %}
    select
        {{ relation }}.*,
        '{{ scope_type }}' as scope_type,
        {{ scope_column }} as scope_id
    from {{ relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
