{#- Helpers of the Salesforce business rules (models/intermediate/crm/int_salesforce__*). -#}

{#- A native CRM id namespaced by its source (`salesforce:0065g000001`), as
    orchestration.sources.base.namespaced: null for an empty id. -#}
{% macro crm_namespaced(source_system, expression) -%}
    case
        when nullif(trim({{ expression }}), '') is not null
            and lower(trim({{ expression }})) not in ('nan', 'none', 'null')
            then {{ source_system }} || ':' || trim({{ expression }})
    end
{%- endmacro %}

{#- The raw column name of a Salesforce API field name, the Fivetran convention of
    orchestration.lib.crm_landing.snake_case (`HireDate__c` -> `hire_date__c`). -#}
{% macro crm_snake_case(name) -%}
    {%- set boundary = '(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])' -%}
    {{- return(modules.re.sub(boundary, '_', name | trim) | lower) -}}
{%- endmacro %}

{#- The custom fields source.yml names (hired_date_field: HireDate__c, ...), read from the
    landed config at execution time: a list of {source_system, option, column}. Empty while
    dbt only parses (no database read) and where raw_salesforce._config does not exist. -#}
{% macro salesforce_custom_fields(options) -%}
    {%- set fields = [] -%}
    {#- The config table is missing only where nothing was landed (a lint or docs database). -#}
    {%- set config = load_relation(source('salesforce', '_config')) if execute else none -%}
    {%- if config is not none -%}
        {%- set query -%}
            select source_system, config_key, value
            from {{ config }}
            where config_key in ('{{ options | join("', '") }}')
                and entry_key is null
                and nullif(trim(value), '') is not null
            order by source_system, config_key
        {%- endset -%}
        {%- for row in run_query(query).rows -%}
            {%- do fields.append({
                'source_system': row[0],
                'option': row[1],
                'column': crm_snake_case(row[2]),
            }) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(fields) -}}
{%- endmacro %}
