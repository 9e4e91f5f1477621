{#- HubSpot values (raw_hubspot.* tables are text, landed verbatim) cast in staging. An export
    writes date-times as wall time in the portal's time zone (`2025-04-03 10:00`,
    `2025/04/03 10:00`, `04/03/2025 10:00 AM`); a synced table (Fivetran, Airbyte, dlt) holds
    ISO 8601 with an offset or epoch milliseconds (`1743642000000`). -#}

{#- The portal time zone of the row's source: `timezone:` of its source.yml (raw_hubspot._config),
    Asia/Tokyo when the source.yml has none (as orchestration/sources/hubspot.py). Used in a
    select over a relation aliased `source`. -#}
{% macro hubspot_portal_timezone() -%}
    coalesce((
        select max(portal.value)
        from {{ source('hubspot', '_config') }} as portal
        where portal.config_key = 'timezone'
            and portal.source_system = source._source_system
    ), 'Asia/Tokyo')
{%- endmacro %}

{#- A HubSpot date-time as wall time in env SALES_KPI_TIMEZONE (Asia/Tokyo): epoch milliseconds
    and explicit offsets are instants; a value without an offset is portal wall time
    (`timezone_expression`); null when empty or unreadable. -#}
{% macro hubspot_timestamp(expression, timezone_expression='_portal_timezone') -%}
    {{ return(adapter.dispatch('hubspot_timestamp', 'sales_kpi')(expression, timezone_expression)) }}
{%- endmacro %}

{% macro default__hubspot_timestamp(expression, timezone_expression) -%}
    cast(nullif(trim({{ expression }}), '') as timestamp)
{%- endmacro %}

{% macro duckdb__hubspot_timestamp(expression, timezone_expression) -%}
    case
        when regexp_full_match(trim({{ expression }}), '\d{12,14}')
            then timezone('{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}',
                timezone('UTC', epoch_ms(cast(trim({{ expression }}) as bigint))))
        when regexp_matches(trim({{ expression }}), '\d{2}:\d{2}(:\d{2}(\.\d+)?)? ?([+-]\d{2}(:?\d{2})?|Z)$')
            then timezone('{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}',
                try_cast(trim({{ expression }}) as timestamptz))
        else timezone('{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}',
            timezone({{ timezone_expression }}, coalesce(
                try_cast(nullif(trim({{ expression }}), '') as timestamp),
                try_strptime(trim({{ expression }}), [
                    '%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M', '%Y/%m/%d',
                    '%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M', '%m/%d/%Y %I:%M %p', '%m/%d/%Y'
                ])
            )))
    end
{%- endmacro %}

{% macro postgres__hubspot_timestamp(expression, timezone_expression) -%}
    case
        when trim({{ expression }}) ~ '^\d{12,14}$'
            then (timestamptz '1970-01-01 00:00:00+00'
                + cast(trim({{ expression }}) as bigint) * interval '1 millisecond')
                at time zone '{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}'
        when trim({{ expression }}) ~ '\d{2}:\d{2}(:\d{2}(\.\d+)?)? ?([+-]\d{2}(:?\d{2})?|Z)$'
            then {{ try_cast('trim(' ~ expression ~ ')', 'timestamptz') }}
                at time zone '{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}'
        else (coalesce(
                {{ try_cast("nullif(trim(" ~ expression ~ "), '')", 'timestamp') }},
                {{ target.schema }}.sales_kpi_try_us_timestamp(trim({{ expression }}))
            ) at time zone {{ timezone_expression }})
            at time zone '{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}'
    end
{%- endmacro %}

{#- Spark: as spark__crm_utc_timestamp. -#}
{% macro spark__hubspot_timestamp(expression, timezone_expression) -%}
    case
        when trim({{ expression }}) rlike r'^\d{12,14}$'
            then from_utc_timestamp(to_utc_timestamp(
                timestamp_millis(cast(trim({{ expression }}) as bigint)), current_timezone()),
                '{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}')
        when trim({{ expression }}) rlike r'\d{2}:\d{2}(:\d{2}(\.\d+)?)? ?([+-]\d{2}(:?\d{2})?|Z)$'
            then from_utc_timestamp(to_utc_timestamp(
                {{ try_cast('trim(' ~ expression ~ ')', 'timestamptz') }}, current_timezone()),
                '{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}')
        else from_utc_timestamp(to_utc_timestamp(coalesce(
                {{ try_cast("nullif(trim(" ~ expression ~ "), '')", 'timestamp') }},
                {{ spark_us_timestamp('trim(' ~ expression ~ ')') }}
            ), {{ timezone_expression }}), '{{ env_var("SALES_KPI_TIMEZONE", "Asia/Tokyo") }}')
    end
{%- endmacro %}

{#- Spark: a US date or date-time of a HubSpot export (DuckDB: try_strptime %m/%d/%Y...). -#}
{% macro spark_us_timestamp(expression) -%}
    case
        when {{ expression }} rlike r'^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{1,2}:\d{1,2}$'
            then try_to_timestamp({{ expression }}, 'M/d/yyyy H:m:s')
        when {{ expression }} rlike r'^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{1,2}$'
            then try_to_timestamp({{ expression }}, 'M/d/yyyy H:m')
        when upper({{ expression }}) rlike r'^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{1,2} [AP]M$'
            then try_to_timestamp(upper({{ expression }}), 'M/d/yyyy h:m a')
        when {{ expression }} rlike r'^\d{1,2}/\d{1,2}/\d{4}$'
            then try_to_timestamp({{ expression }}, 'M/d/yyyy')
    end
{%- endmacro %}

{#- A HubSpot date: a date-only value (`2025-05-13`, `2025/5/13`, `5/13/2025`) as it is, else
    the date of `hubspot_timestamp` (SALES_KPI_TIMEZONE); null when unreadable. -#}
{% macro hubspot_date(expression, timezone_expression='_portal_timezone') -%}
    {{ return(adapter.dispatch('hubspot_date', 'sales_kpi')(expression, timezone_expression)) }}
{%- endmacro %}

{% macro default__hubspot_date(expression, timezone_expression) -%}
    cast({{ hubspot_timestamp(expression, timezone_expression) }} as date)
{%- endmacro %}

{% macro duckdb__hubspot_date(expression, timezone_expression) -%}
    case
        when regexp_full_match(trim({{ expression }}), '\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}/\d{1,2}/\d{4}')
            then cast(try_strptime(trim({{ expression }}), ['%Y-%m-%d', '%Y/%m/%d', '%m/%d/%Y']) as date)
        else cast({{ hubspot_timestamp(expression, timezone_expression) }} as date)
    end
{%- endmacro %}

{% macro postgres__hubspot_date(expression, timezone_expression) -%}
    case
        when trim({{ expression }}) ~ '^(\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}/\d{1,2}/\d{4})$'
            then coalesce(
                {{ try_cast('trim(' ~ expression ~ ')', 'date') }},
                cast({{ target.schema }}.sales_kpi_try_us_timestamp(trim({{ expression }})) as date))
        else cast({{ hubspot_timestamp(expression, timezone_expression) }} as date)
    end
{%- endmacro %}

{% macro spark__hubspot_date(expression, timezone_expression) -%}
    case
        when trim({{ expression }}) rlike r'^(\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}/\d{1,2}/\d{4})$'
            then coalesce(
                {{ try_cast('trim(' ~ expression ~ ')', 'date') }},
                cast({{ spark_us_timestamp('trim(' ~ expression ~ ')') }} as date))
        else cast({{ hubspot_timestamp(expression, timezone_expression) }} as date)
    end
{%- endmacro %}

{#- A HubSpot number (`1,200,000`, `¥1,200,000`, `1200000円`); null when unreadable. -#}
{% macro hubspot_number(expression) -%}
    {{ try_cast(
        "replace(replace(replace(replace(replace(nullif(trim(" ~ expression ~ "), ''), ',', ''), "
        ~ "'¥', ''), '円', ''), '$', ''), ' ', '')",
        'decimal(38, 6)'
    ) }}
{%- endmacro %}

{#- A HubSpot call duration in seconds: milliseconds (`480000`, synced tables and exports) or
    `hh:mm:ss` / `mm:ss`; null when unreadable. -#}
{% macro hubspot_duration_seconds(expression) -%}
    {{ return(adapter.dispatch('hubspot_duration_seconds', 'sales_kpi')(expression)) }}
{%- endmacro %}

{% macro default__hubspot_duration_seconds(expression) -%}
    {{ hubspot_number(expression) }} / 1000
{%- endmacro %}

{% macro duckdb__hubspot_duration_seconds(expression) -%}
    case
        when regexp_full_match(trim({{ expression }}), '\d+:\d+:\d+')
            then cast(split_part(trim({{ expression }}), ':', 1) as bigint) * 3600
                + cast(split_part(trim({{ expression }}), ':', 2) as bigint) * 60
                + cast(split_part(trim({{ expression }}), ':', 3) as bigint)
        when regexp_full_match(trim({{ expression }}), '\d+:\d+')
            then cast(split_part(trim({{ expression }}), ':', 1) as bigint) * 60
                + cast(split_part(trim({{ expression }}), ':', 2) as bigint)
        else {{ hubspot_number(expression) }} / 1000
    end
{%- endmacro %}

{% macro postgres__hubspot_duration_seconds(expression) -%}
    case
        when trim({{ expression }}) ~ '^\d+:\d+:\d+$'
            then cast(split_part(trim({{ expression }}), ':', 1) as bigint) * 3600
                + cast(split_part(trim({{ expression }}), ':', 2) as bigint) * 60
                + cast(split_part(trim({{ expression }}), ':', 3) as bigint)
        when trim({{ expression }}) ~ '^\d+:\d+$'
            then cast(split_part(trim({{ expression }}), ':', 1) as bigint) * 60
                + cast(split_part(trim({{ expression }}), ':', 2) as bigint)
        {#- DuckDB divides a decimal into a double. #}
        else cast({{ hubspot_number(expression) }} as {{ type_double() }}) / 1000
    end
{%- endmacro %}

{% macro spark__hubspot_duration_seconds(expression) -%}
    case
        when trim({{ expression }}) rlike r'^\d+:\d+:\d+$'
            then cast(split_part(trim({{ expression }}), ':', 1) as bigint) * 3600
                + cast(split_part(trim({{ expression }}), ':', 2) as bigint) * 60
                + cast(split_part(trim({{ expression }}), ':', 3) as bigint)
        when trim({{ expression }}) rlike r'^\d+:\d+$'
            then cast(split_part(trim({{ expression }}), ':', 1) as bigint) * 60
                + cast(split_part(trim({{ expression }}), ':', 2) as bigint)
        else cast({{ hubspot_number(expression) }} as {{ type_double() }}) / 1000
    end
{%- endmacro %}

{#- The first of `fields` whose text is not empty but cannot be read, as the HubSpot rules'
    reason (`cannot read 'Amount' as a number`); null when every one reads. `fields` is a list
    of (raw column, export label, kind) with kind timestamp, date, number or duration; the label
    is the default export label of the property (a portal exporting other labels, or a synced
    table, gets the same reason with this label). Used in a select over the `portal` relation
    of a staging model (a timestamp needs _portal_timezone). -#}
{% macro hubspot_unreadable_reason(fields) -%}
    case
        {%- for column, label, kind in fields %}
        {%- set label_text = label | replace("'", "''") %}
        {%- if kind == 'timestamp' %}
        when {{ crm_text(column) }} is not null and {{ hubspot_timestamp(column) }} is null
            then 'cannot read ''{{ label_text }}'' as a timestamp'
        {%- elif kind == 'date' %}
        when {{ crm_text(column) }} is not null and {{ hubspot_date(column) }} is null
            then 'cannot read ''{{ label_text }}'' as a date'
        {%- elif kind == 'number' %}
        when {{ crm_text(column) }} is not null and {{ hubspot_number(column) }} is null
            then 'cannot read ''{{ label_text }}'' as a number'
        {%- elif kind == 'duration' %}
        when {{ crm_text(column) }} is not null and {{ hubspot_duration_seconds(column) }} is null
            then case
                when {{ column }} like '%:%' then 'cannot read ''{{ label_text }}'' as a duration'
                else 'cannot read ''{{ label_text }}'' as a number'
            end
        {%- else %}
        {{ exceptions.raise_compiler_error('hubspot_unreadable_reason: unknown kind ' ~ kind) }}
        {%- endif %}
        {%- endfor %}
    end
{%- endmacro %}
