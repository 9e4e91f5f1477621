{#- The `Date entered "<Stage> (<Pipeline>)"` values of the deals, one row per deal row and
    date-entered column with a value (the wide export unpivoted; an empty cell gives no row).
    The columns are those raw_hubspot._config names under date_entered_columns (an export's
    `date_entered__<stage>__<pipeline>` columns, or a synced table's `hs_date_entered_<stage id>`
    named in source.yml), read when the model is built; their stage and pipeline labels stay in
    stg_hubspot__config. -#}
{%- set deals = source('hubspot', 'deal') -%}
{%- set named = [] -%}
{%- for row in hubspot_config_rows(['date_entered_columns']) -%}
    {%- if row.entry_key not in named -%}{%- do named.append(row.entry_key) -%}{%- endif -%}
{%- endfor -%}
{%- set columns = [] -%}
{%- if named -%}
    {%- for column in adapter.get_columns_in_relation(deals) -%}
        {%- if column.name in named -%}{%- do columns.append(column.name) -%}{%- endif -%}
    {%- endfor -%}
{%- endif -%}

with source as (
    select * from {{ deals }}
),

portal as (
    select
        source.*,
        {{ hubspot_portal_timezone() }} as _portal_timezone
    from source
),

{% for column in columns %}
column_{{ loop.index }} as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        '{{ column }}' as column_name,
        cast({{ loop.index }} as {{ dbt.type_bigint() }}) as column_position,
        {{ crm_text(adapter.quote(column)) }} as entered_text,
        {{ hubspot_timestamp(adapter.quote(column)) }} as entered_at
    from portal
    where {{ crm_text(adapter.quote(column)) }} is not null
),
{% endfor %}

no_column as (
    select
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as {{ dbt.type_bigint() }}) as source_row,
        cast(null as {{ dbt.type_string() }}) as column_name,
        cast(null as {{ dbt.type_bigint() }}) as column_position,
        cast(null as {{ dbt.type_string() }}) as entered_text,
        cast(null as {{ dbt.type_timestamp() }}) as entered_at
    where 1 = 0
),

unioned as (
    {% for column in columns %}
    select * from column_{{ loop.index }}
    union all
    {% endfor %}
    select * from no_column
)

select * from unioned
