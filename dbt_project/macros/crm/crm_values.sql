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
