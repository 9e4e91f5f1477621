{#- Helpers of the HubSpot business rules (models/intermediate/crm_hubspot/int_hubspot__*). -#}

{#- The lookup key of a value: case-folded, without spaces, `_` and
    `-` (`Closed Won` -> `closedwon`); null for null. NFKC, which SQL engines do
    not portably offer, is not applied: full-width letters are not folded. -#}
{% macro hubspot_key(expression) -%}
    {{ return(adapter.dispatch('hubspot_key', 'sales_kpi')(expression)) }}
{%- endmacro %}

{% macro default__hubspot_key(expression) -%}
    lower(regexp_replace({{ expression }}, '[[:space:]_-]+', '', 'g'))
{%- endmacro %}

{% macro duckdb__hubspot_key(expression) -%}
    lower(regexp_replace({{ expression }}, '[\s_\-]+', '', 'g'))
{%- endmacro %}

{#- The first id of an association cell (`123;456`, `123, 456`), blanks skipped; null when
    there is none. -#}
{% macro hubspot_first_id(expression) -%}
    {{ return(adapter.dispatch('hubspot_first_id', 'sales_kpi')(expression)) }}
{%- endmacro %}

{% macro default__hubspot_first_id(expression) -%}
    nullif(trim(substring({{ expression }} from '[^;,]*[^;,[:space:]][^;,]*')), '')
{%- endmacro %}

{% macro duckdb__hubspot_first_id(expression) -%}
    nullif(trim(regexp_extract({{ expression }}, '[^;,]*[^;,\s][^;,]*')), '')
{%- endmacro %}

{#- The ids of an association cell as a list (order kept, blanks dropped), for
    `hubspot_unnest_ids`. -#}
{% macro hubspot_id_list(expression) -%}
    {{ return(adapter.dispatch('hubspot_id_list', 'sales_kpi')(expression)) }}
{%- endmacro %}

{% macro default__hubspot_id_list(expression) -%}
    array_remove(regexp_split_to_array(regexp_replace(coalesce({{ expression }}, ''),
        '[[:space:]]*[;,][[:space:]]*', ';', 'g'), ';'), '')
{%- endmacro %}

{% macro duckdb__hubspot_id_list(expression) -%}
    list_filter(
        list_transform(string_split(replace(coalesce({{ expression }}, ''), ',', ';'), ';'),
            lambda id_text: trim(id_text)),
        lambda id_text: id_text <> '')
{%- endmacro %}

{#- Select-list items exploding an id list into one row per id: `<prefix>_id` and its 1-based
    `<prefix>_position` in the cell. -#}
{% macro hubspot_unnest_ids(list_expression, prefix) -%}
    {{ return(adapter.dispatch('hubspot_unnest_ids', 'sales_kpi')(list_expression, prefix)) }}
{%- endmacro %}

{% macro default__hubspot_unnest_ids(list_expression, prefix) -%}
    unnest({{ list_expression }}) as {{ prefix }}_id,
    generate_subscripts({{ list_expression }}, 1) as {{ prefix }}_position
{%- endmacro %}

{#- The file name of a path (`tests/fixtures/hubspot_tiny/deals.csv` -> `deals.csv`). -#}
{% macro hubspot_file_name(expression) -%}
    {{ return(adapter.dispatch('hubspot_file_name', 'sales_kpi')(expression)) }}
{%- endmacro %}

{% macro default__hubspot_file_name(expression) -%}
    substring({{ expression }} from '[^/\\]+$')
{%- endmacro %}

{% macro duckdb__hubspot_file_name(expression) -%}
    regexp_extract({{ expression }}, '[^/\\]+$')
{%- endmacro %}

{#- The first e-mail address in a text (`佐藤 太郎 (taro@example.co.jp)`); '' when none. -#}
{% macro hubspot_email_in(expression) -%}
    {{ return(adapter.dispatch('hubspot_email_in', 'sales_kpi')(expression)) }}
{%- endmacro %}

{% macro default__hubspot_email_in(expression) -%}
    coalesce(substring({{ expression }} from '[A-Za-z0-9_.+-]+@[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+'), '')
{%- endmacro %}

{% macro duckdb__hubspot_email_in(expression) -%}
    regexp_extract({{ expression }}, '[\w.+-]+@[\w-]+(\.[\w-]+)+')
{%- endmacro %}

{#- The stable id of an owner value missing from the owners export:
    `unlisted-` and the first 12 hex digits of the SHA-256 of the value's lookup key (never the
    name itself, which is personal data). -#}
{% macro hubspot_unlisted_owner_id(key_expression) -%}
    {{ return(adapter.dispatch('hubspot_unlisted_owner_id', 'sales_kpi')(key_expression)) }}
{%- endmacro %}

{% macro default__hubspot_unlisted_owner_id(key_expression) -%}
    'unlisted-' || left(encode(sha256(convert_to({{ key_expression }}, 'UTF8')), 'hex'), 12)
{%- endmacro %}

{% macro duckdb__hubspot_unlisted_owner_id(key_expression) -%}
    'unlisted-' || left(sha256({{ key_expression }}), 12)
{%- endmacro %}

{#- A full name from first and last names, `family_first` (default) gives
    "<last> <first>", `given_first` "<first> <last>"; an empty part is left out; null when both
    are empty. -#}
{% macro hubspot_full_name(first_name, last_name, name_order) -%}
    nullif(trim(
        case
            when {{ name_order }} = 'given_first'
                then coalesce({{ first_name }}, '') || ' ' || coalesce({{ last_name }}, '')
            else coalesce({{ last_name }}, '') || ' ' || coalesce({{ first_name }}, '')
        end
    ), '')
{%- endmacro %}

{#- Whole minutes of a number of seconds, rounded half up . -#}
{% macro hubspot_minutes(seconds_expression) -%}
    cast(floor(({{ seconds_expression }}) / 60.0 + 0.5) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- The raw column name of an export label no property is known for, as landing's
    `_slug` (`法人番号` -> `法人番号`, `Agency Name` -> `agency_name`); without its NFKC step. -#}
{% macro hubspot_slug(label) -%}
    {{- return(modules.re.sub('[^\\w]+', '_', label | trim | lower).strip('_') or 'column') -}}
{%- endmacro %}

{#- Rows of raw_hubspot._config read while the models are built: a list of
    {source_system, config_key, entry_key, value}. Empty while dbt only parses and where
    raw_hubspot._config does not exist (nothing landed). -#}
{% macro hubspot_config_rows(config_keys) -%}
    {%- set found = [] -%}
    {%- set config = load_relation(source('hubspot', '_config')) if execute else none -%}
    {%- if config is not none -%}
        {%- set query -%}
            select distinct source_system, config_key, coalesce(entry_key, ''), value
            from {{ config }}
            where config_key in ('{{ config_keys | join("', '") }}')
            order by 1, 2, 3, 4
        {%- endset -%}
        {%- for row in run_query(query).rows -%}
            {%- do found.append({
                'source_system': row[0],
                'config_key': row[1],
                'entry_key': row[2],
                'value': row[3],
            }) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(found) -}}
{%- endmacro %}

{#- True when the text is all digits (an owner id written in an export, kept as it is). -#}
{% macro hubspot_is_digits(expression) -%}
    {{ return(adapter.dispatch('hubspot_is_digits', 'sales_kpi')(expression)) }}
{%- endmacro %}

{% macro default__hubspot_is_digits(expression) -%}
    ({{ expression }} ~ '^[0-9]+$')
{%- endmacro %}

{% macro duckdb__hubspot_is_digits(expression) -%}
    regexp_full_match({{ expression }}, '[0-9]+')
{%- endmacro %}

{#- The reason for a row superseded by a later row with the same Record ID (same or
    later file): `duplicate Record ID <id>: superseded by <file name> row <n>`, else null. A
    window expression over the live rows (not deleted, with an id) of one object. -#}
{% macro hubspot_superseded_reason(id_column) -%}
    {%- set window -%}
        over (
            partition by source_system, {{ id_column }}
            order by source_file, source_row
        )
    {%- endset -%}
    case
        when lead(source_row) {{ window }} is not null
            then 'duplicate Record ID ' || {{ id_column }} || ': superseded by '
                || {{ hubspot_file_name('lead(source_file) ' ~ window) }}
                || ' row ' || cast(lead(source_row) {{ window }} as {{ dbt.type_string() }})
    end
{%- endmacro %}

{#- Spark variants of the HubSpot text helpers above (Java regexes in raw literals r'...'). -#}
{% macro spark__hubspot_first_id(expression) -%}
    nullif(trim(regexp_extract({{ expression }}, r'[^;,]*[^;,\s][^;,]*', 0)), '')
{%- endmacro %}

{% macro spark__hubspot_id_list(expression) -%}
    filter(
        transform(split(replace(coalesce({{ expression }}, ''), ',', ';'), ';'),
            id_text -> trim(id_text)),
        id_text -> id_text <> '')
{%- endmacro %}

{#- One generator per select on Spark: the id and its 1-based position as one struct. -#}
{% macro spark__hubspot_unnest_ids(list_expression, prefix) -%}
    inline(transform({{ list_expression }}, (id_text, id_index) -> named_struct(
        '{{ prefix }}_id', id_text, '{{ prefix }}_position', id_index + 1)))
{%- endmacro %}

{% macro spark__hubspot_file_name(expression) -%}
    regexp_extract({{ expression }}, r'[^/\\]+$', 0)
{%- endmacro %}

{% macro spark__hubspot_email_in(expression) -%}
    regexp_extract({{ expression }}, r'[\w.+-]+@[\w-]+(\.[\w-]+)+', 0)
{%- endmacro %}

{% macro spark__hubspot_is_digits(expression) -%}
    ({{ expression }} rlike r'^[0-9]+$')
{%- endmacro %}

{% macro spark__hubspot_key(expression) -%}
    lower(regexp_replace({{ expression }}, r'[\s_\-]+', ''))
{%- endmacro %}

{% macro spark__hubspot_unlisted_owner_id(key_expression) -%}
    'unlisted-' || left(sha2({{ key_expression }}, 256), 12)
{%- endmacro %}
