{#- numerator / denominator as a decimal; null (not zero) when the denominator is 0 or null. -#}
{% macro safe_divide(numerator, denominator) -%}
    case
        when ({{ denominator }}) is null or ({{ denominator }}) = 0 then null
        else cast({{ numerator }} as {{ type_double() }}) / ({{ denominator }})
    end
{%- endmacro %}

{#- Keep the latest row per key: portable replacement for `qualify row_number() ... = 1`. -#}
{% macro deduplicate(relation, partition_by, order_by) -%}
    select * from (
        select
            deduplicate_source.*,
            row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as dedupe_rank
        from {{ relation }} as deduplicate_source
    ) as deduplicated
    where dedupe_rank = 1
{%- endmacro %}
