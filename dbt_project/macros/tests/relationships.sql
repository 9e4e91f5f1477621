{#-
    The built-in `relationships` test, checked only when the referenced table has rows.
    Inputs other than leads or opportunities are optional: a deals-only export has no users
    or accounts file, so dim_reps and dim_accounts are empty and every owner or account id
    would "fail". An empty parent means the referenced export was not loaded (kpi_availability
    says so), not that the references are wrong; once it has rows, every id must be in it.
    Overrides dbt's default__test_relationships (dispatch looks in the root project first).
-#}
{% macro default__test_relationships(model, column_name, to, field) %}

with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
),

parent as (
    select {{ field }} as to_field
    from {{ to }}
)

select
    from_field

from child
left join parent
    on child.from_field = parent.to_field

where parent.to_field is null
    and exists (select 1 from {{ to }})

{% endmacro %}
