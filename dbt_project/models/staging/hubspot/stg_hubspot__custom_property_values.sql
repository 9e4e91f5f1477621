{#- The values of the custom properties source.yml names (corporate_number_property on
    companies, agency_property on contacts), one row per landed row and option, keyed by the
    row's lineage. The property is named by its export label (`法人番号`), landed as a column
    named like the converter's `_slug` of it; read from raw_hubspot._config when the model is
    built. -#}
{%- set objects = {
    'corporate_number_property': 'company',
    'agency_property': 'contact',
} -%}
{%- set relations = {'_config': source('hubspot', '_config')} -%}
{%- for table in objects.values() -%}
    {%- do relations.update({table: source('hubspot', table)}) -%}
{%- endfor -%}
{%- set fields = [] -%}
{%- for row in hubspot_config_rows(objects.keys() | list) -%}
    {%- if row.value is not none and row.value | trim -%}
        {%- do fields.append({
            'source_system': row.source_system,
            'option': row.config_key,
            'column': hubspot_slug(row.value),
        }) -%}
    {%- endif -%}
{%- endfor -%}

with
{% for field in fields %}
{%- set table = objects[field.option] -%}
{%- set relation = relations[table] -%}
{%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
{%- if field.column not in columns -%}
    {{ exceptions.raise_compiler_error(
        'source.yml ' ~ field.option ~ ' of ' ~ field.source_system ~ ' names the property '
        ~ field.column ~ ', which raw_hubspot.' ~ table ~ ' does not have') }}
{%- endif %}
field_{{ loop.index }} as (
    select
        _source_system as source_system,
        '{{ table }}' as object_name,
        _source_file as source_file,
        _row_number as source_row,
        '{{ field.option }}' as config_key,
        {{ crm_text(adapter.quote(field.column)) }} as property_value
    from {{ relation }}
    where _source_system = '{{ field.source_system }}'
),
{% endfor %}

no_field as (
    select
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as object_name,
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as {{ dbt.type_bigint() }}) as source_row,
        cast(null as {{ dbt.type_string() }}) as config_key,
        cast(null as {{ dbt.type_string() }}) as property_value
    where 1 = 0
),

unioned as (
    {% for field in fields %}
    select * from field_{{ loop.index }}
    union all
    {% endfor %}
    select * from no_field
)

select * from unioned
