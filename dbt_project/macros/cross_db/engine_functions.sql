{#- Helper functions some engines need, created by the on-run-start hook (dbt_project.yml) in
    the target schema: Postgres has no try_cast (and 15 no pg_input_is_valid), so
    postgres__try_cast calls sales_kpi_try_cast__<type>(text), a plpgsql function that returns
    null where DuckDB's try_cast does (a regex guard for the text forms DuckDB reads, and any
    error of the cast itself). Other engines need none: the hook renders nothing there. -#}
{% macro create_engine_functions() -%}
    {{ return(adapter.dispatch('create_engine_functions', 'sales_kpi')()) }}
{%- endmacro %}

{% macro default__create_engine_functions() -%}
{%- endmacro %}

{#- The types try_cast supports on Postgres and Spark: data type -> (function suffix, regex guard
    of the text forms DuckDB reads). -#}
{% macro try_cast_guards() -%}
    {%- set date_part = '\\d{4}([-/])\\d{1,2}\\1\\d{1,2}' -%}
    {%- set time_part = '([ T]\\d{1,2}:\\d{1,2}(:\\d{1,2}(\\.\\d+)?)?)? ?(Z|[+-]\\d{2}(:?\\d{2})?)?' -%}
    {{- return({
        'decimal(38, 6)': ('decimal_38_6', '^\\s*[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?\\s*$'),
        'bigint': ('bigint', '^\\s*[+-]?\\d+\\s*$'),
        'date': ('date', '^\\s*' ~ date_part ~ '\\s*$'),
        'timestamp': ('timestamp', '^\\s*' ~ date_part ~ time_part ~ '\\s*$'),
        'timestamptz': ('timestamptz', '^\\s*' ~ date_part ~ time_part ~ '\\s*$'),
    }) -}}
{%- endmacro %}

{% macro postgres__create_engine_functions() -%}
    {%- for data_type, (suffix, guard) in try_cast_guards().items() %}
create or replace function {{ target.schema }}.sales_kpi_try_cast__{{ suffix }}(value text)
returns {{ data_type }} language plpgsql stable as $function$
begin
    if value is null or value !~ '{{ guard }}' then
        return null;
    end if;
    return cast(value as {{ data_type }});
exception when others then
    return null;
end
$function$;
    {%- endfor %}
{#- A US date or date-time of a HubSpot export (DuckDB: try_strptime with %m/%d/%Y...). -#}
create or replace function {{ target.schema }}.sales_kpi_try_us_timestamp(value text)
returns timestamp language plpgsql stable as $function$
begin
    if value ~ '^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{1,2}:\d{1,2}$' then
        return cast(to_timestamp(value, 'MM/DD/YYYY HH24:MI:SS') as timestamp);
    elsif value ~ '^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{1,2}$' then
        return cast(to_timestamp(value, 'MM/DD/YYYY HH24:MI') as timestamp);
    elsif value ~* '^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{1,2} ?[AP]M$' then
        return cast(to_timestamp(upper(replace(value, ' ', '')), 'MM/DD/YYYYHH12:MIAM') as timestamp);
    elsif value ~ '^\d{1,2}/\d{1,2}/\d{4}$' then
        return cast(to_timestamp(value, 'MM/DD/YYYY') as timestamp);
    end if;
    return null;
exception when others then
    return null;
end
$function$;
{%- endmacro %}
