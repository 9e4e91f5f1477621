{#- CRM text values (raw_<crm>.* tables are text, landed verbatim) cast in staging. -#}

{#- A CRM date-time in UTC (`2025-04-03T01:00:00.000Z`, `+0000`, or no offset) as wall time in
    env SALES_KPI_TIMEZONE (Asia/Tokyo); an explicit offset is honoured; null when unreadable. -#}
{% macro crm_utc_timestamp(expression) -%}
    {{ return(adapter.dispatch('crm_utc_timestamp', 'sales_kpi')(expression)) }}
{%- endmacro %}

{% macro default__crm_utc_timestamp(expression) -%}
    cast(cast({{ expression }} as timestamp with time zone)
        at time zone '{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}' as timestamp)
{%- endmacro %}

{% macro duckdb__crm_utc_timestamp(expression) -%}
    case
        when regexp_matches(trim({{ expression }}), '\d{2}:\d{2}(:\d{2}(\.\d+)?)? ?([+-]\d{2}(:?\d{2})?|Z)$')
            then timezone('{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}',
                try_cast(trim({{ expression }}) as timestamptz))
        else timezone('{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}',
            timezone('UTC', try_cast(nullif(trim({{ expression }}), '') as timestamp)))
    end
{%- endmacro %}

{% macro postgres__crm_utc_timestamp(expression) -%}
    case
        when trim({{ expression }}) ~ '\d{2}:\d{2}(:\d{2}(\.\d+)?)? ?([+-]\d{2}(:?\d{2})?|Z)$'
            then {{ try_cast('trim(' ~ expression ~ ')', 'timestamptz') }}
                at time zone '{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}'
        else ({{ try_cast("nullif(trim(" ~ expression ~ "), '')", 'timestamp') }} at time zone 'UTC')
            at time zone '{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}'
    end
{%- endmacro %}

{#- Spark: a timestamp is an instant shown in the session time zone; from_utc_timestamp(
    to_utc_timestamp(ts, zone A), zone B) turns wall time in A into wall time in B. -#}
{% macro spark__crm_utc_timestamp(expression) -%}
    case
        when trim({{ expression }}) rlike r'\d{2}:\d{2}(:\d{2}(\.\d+)?)? ?([+-]\d{2}(:?\d{2})?|Z)$'
            then from_utc_timestamp(to_utc_timestamp(
                {{ try_cast('trim(' ~ expression ~ ')', 'timestamptz') }}, current_timezone()),
                '{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}')
        else from_utc_timestamp({{ try_cast("nullif(trim(" ~ expression ~ "), '')", 'timestamp') }},
            '{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}')
    end
{%- endmacro %}

{#- A CRM date (`2025-05-13`, or the date part of a date-time); null when unreadable. -#}
{% macro crm_date(expression) -%}
    {{ try_cast('left(nullif(trim(' ~ expression ~ "), ''), 10)", 'date') }}
{%- endmacro %}

{#- A CRM checkbox: true/false (also 1/0, yes/no, t/f, y/n, any case); null otherwise.
    The one list of boolean words of the SQL side. -#}
{% macro crm_boolean(expression) -%}
    case
        when lower(trim({{ expression }})) in ('true', 't', '1', 'yes', 'y') then true
        when lower(trim({{ expression }})) in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}

{#- A CRM number (`1200000.00`, `1,200,000`); null when unreadable. -#}
{% macro crm_number(expression) -%}
    {{ try_cast("replace(nullif(trim(" ~ expression ~ "), ''), ',', '')", 'decimal(38, 6)') }}
{%- endmacro %}

{#- A CRM text value: trimmed, null when empty. -#}
{% macro crm_text(expression) -%}
    nullif(trim({{ expression }}), '')
{%- endmacro %}

{#- The first of `fields` whose text is not empty but cannot be read, as a rejection reason
    (`Amount is not a number`); null when every one reads. `fields` is a list
    of (raw column, API field name, kind) with kind number, date, date-time or boolean. -#}
{% macro crm_unreadable_reason(fields) -%}
    {%- set parsers = {
        'number': crm_number,
        'date': crm_date,
        'date-time': crm_utc_timestamp,
        'boolean': crm_boolean,
    } -%}
    case
        {%- for column, api_name, kind in fields %}
        when {{ crm_text(column) }} is not null and {{ parsers[kind](column) }} is null
            then '{{ api_name }} is not a {{ kind }}'
        {%- endfor %}
    end
{%- endmacro %}

{#- The values of the custom fields a CRM source's source.yml names, one row per landed row and
    option, keyed by the row's lineage (source_system, object_name, source_file, source_row,
    config_key, `value_column`). `crm`: the dbt source (raw_<crm>); `objects`: option -> the
    object (table) carrying it; `fields`: the options set, each {source_system, option, column}
    (read from raw_<crm>._config when the model is built); `kind`: what the CRM calls such a
    column, for the error naming a column the landed table does not have. Every object that can
    carry a custom field is a dependency, whatever the config says. -#}
{% macro crm_custom_values(crm, objects, fields, value_column, kind) -%}
{%- set relations = {'_config': source(crm, '_config')} -%}
{%- for table in objects.values() -%}
    {%- do relations.update({table: source(crm, table)}) -%}
{%- endfor -%}
with
{% for field in fields %}
{%- set table = objects[field.option] -%}
{%- set relation = relations[table] -%}
{%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
{%- if field.column not in columns -%}
    {{ exceptions.raise_compiler_error(
        'source.yml ' ~ field.option ~ ' of ' ~ field.source_system ~ ' names the ' ~ kind ~ ' '
        ~ field.column ~ ', which raw_' ~ crm ~ '.' ~ table ~ ' does not have') }}
{%- endif %}
field_{{ loop.index }} as (
    select
        _source_system as source_system,
        '{{ table }}' as object_name,
        _source_file as source_file,
        _row_number as source_row,
        '{{ field.option }}' as config_key,
        {{ crm_text(adapter.quote(field.column)) }} as {{ value_column }}
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
        cast(null as {{ dbt.type_string() }}) as {{ value_column }}
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
{%- endmacro %}
