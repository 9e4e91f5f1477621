{#- The values of the custom fields that source.yml names (hired_date_field: HireDate__c on User,
    corporate_number_field on Account, lead_agency_field on Lead, lost_reason_field on
    Opportunity, email_opened_field on Task, event_no_show_field on Event), one row per landed
    row and option, keyed by the row's lineage. The field names differ per org (and per source),
    so they are read from raw_salesforce._config when the model is built. -#}
{%- set objects = {
    'hired_date_field': 'user',
    'corporate_number_field': 'account',
    'lead_agency_field': 'lead',
    'lost_reason_field': 'opportunity',
    'email_opened_field': 'task',
    'event_no_show_field': 'event',
} -%}
{#- Every object that can carry a custom field is a dependency, whatever the config says. -#}
{%- set relations = {'_config': source('salesforce', '_config')} -%}
{%- for table in objects.values() -%}
    {%- do relations.update({table: source('salesforce', table)}) -%}
{%- endfor -%}
{%- set fields = salesforce_custom_fields(objects.keys() | list) -%}

with
{% for field in fields %}
{%- set table = objects[field.option] -%}
{%- set relation = relations[table] -%}
{%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
{%- if field.column not in columns -%}
    {{ exceptions.raise_compiler_error(
        'source.yml ' ~ field.option ~ ' of ' ~ field.source_system ~ ' names the field '
        ~ field.column ~ ', which raw_salesforce.' ~ table ~ ' does not have') }}
{%- endif %}
field_{{ loop.index }} as (
    select
        _source_system as source_system,
        '{{ table }}' as object_name,
        _source_file as source_file,
        _row_number as source_row,
        '{{ field.option }}' as config_key,
        {{ crm_text(adapter.quote(field.column)) }} as field_value
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
        cast(null as {{ dbt.type_string() }}) as field_value
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
