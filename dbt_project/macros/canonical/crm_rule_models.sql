{#- The CRMs whose exports land verbatim (raw_<crm>) and whose business rules are dbt models:
    int_<crm>__<entity> gives the rows of a canonical entity that the rules keep
    (models/intermediate/crm for Salesforce, models/intermediate/crm_hubspot for HubSpot).
    `crm_rule_crms(entity)`: the CRMs with a rules model for `entity`, in a fixed order. -#}
{% macro crm_rule_crms(entity) -%}
    {%- set entities_by_crm = {
        'salesforce': [
            'users', 'agencies', 'accounts', 'contacts', 'leads', 'opportunities',
            'opportunity_stage_history', 'activities', 'exchange_rates',
        ],
        'hubspot': [
            'users', 'agencies', 'accounts', 'contacts', 'leads', 'opportunities',
            'opportunity_stage_history', 'activities',
        ],
    } -%}
    {%- set crms = [] -%}
    {%- for crm, entities in entities_by_crm.items() if entity in entities -%}
        {%- do crms.append(crm) -%}
    {%- endfor -%}
    {{ return(crms) }}
{%- endmacro %}

{#- The rules models of every CRM for `entity` (refs), e.g. [ref('int_salesforce__leads'),
    ref('int_hubspot__leads')]. -#}
{% macro crm_rule_models(entity) -%}
    {%- set models = [] -%}
    {%- for crm in crm_rule_crms(entity) -%}
        {%- do models.append(ref('int_' ~ crm ~ '__' ~ entity)) -%}
    {%- endfor -%}
    {{ return(models) }}
{%- endmacro %}

{#- The canonical raw columns a CRM's rules give for `entity` (int_<crm>__<entity>), besides
    the lineage columns source_system, source_file, source_row. -#}
{% macro crm_entity_columns(entity) -%}
    {%- set columns = {
        'users': [
            'user_id', 'user_name', 'email', 'team_id', 'team_name', 'role', 'motion',
            'agency_id', 'hired_date', 'is_active',
        ],
        'agencies': ['agency_id', 'agency_name', 'fee_model'],
        'accounts': [
            'account_id', 'account_name', 'corporate_number', 'industry', 'employee_band',
            'employee_count', 'prefecture', 'created_at',
        ],
        'contacts': [
            'contact_id', 'account_id', 'full_name', 'email', 'phone', 'title', 'created_at',
        ],
        'leads': [
            'lead_id', 'created_at', 'lead_source', 'lead_status', 'owner_id', 'agency_id',
            'account_id', 'contact_id', 'converted_at', 'converted_opportunity_id',
        ],
        'opportunities': [
            'opportunity_id', 'account_id', 'owner_id', 'lead_id', 'sdr_id', 'created_at',
            'close_date', 'opportunity_stage', 'amount', 'product', 'currency',
            'opportunity_type', 'is_closed', 'is_won', 'lost_reason',
        ],
        'opportunity_stage_history': [
            'opportunity_id', 'opportunity_stage', 'changed_at', 'changed_by_id',
        ],
        'activities': [
            'activity_id', 'activity_type', 'activity_at', 'owner_id', 'outcome',
            'duration_minutes', 'lead_id', 'opportunity_id', 'account_id',
        ],
        'exchange_rates': ['rate_date', 'from_currency', 'to_currency', 'rate'],
    } -%}
    {{ return(columns[entity]) }}
{%- endmacro %}

{#- int_<crm>__<entity>: the rows of `checked` (a _checked model, one row per landed row with
    its rejection_reason) that the rules keep, in the entity's columns (crm_entity_columns) and
    lineage. `expressions`: column -> the expression giving it, where the checked model names
    it otherwise; `condition`: a further condition on the kept rows; `extra_columns`: columns
    kept besides the entity's (read by checks, not by the union model). -#}
{% macro crm_kept_rows(checked, entity, expressions={}, condition=none, extra_columns=[]) -%}
with

checked as (
    select * from {{ ref(checked) }}
),

kept as (
    select
        {%- for column in crm_entity_columns(entity) + extra_columns %}
        {%- if column in expressions %}
        {{ expressions[column] }} as {{ column }},
        {%- else %}
        {{ column }},
        {%- endif %}
        {%- endfor %}
        source_system,
        source_file,
        source_row
    from checked
    where rejection_reason is null{% if condition %} and {{ condition }}{% endif %}
)

select * from kept
{%- endmacro %}

{#- int_<crm>__agencies: the agencies (営業代行) of source.yml `agencies` (landed in
    raw_<crm>._config): id -> name, or -> {name (or agency_name), fee_model}; an entry without
    a name is named by its id. Their lineage is the source.yml (`<folder>/source.yml#agencies`)
    and the entry's position; the landed config keeps no order, so the position is that of the
    id among the ids sorted. -#}
{% macro crm_config_agencies(crm) -%}
with

config as (
    select * from {{ ref('stg_' ~ crm ~ '__config') }}
    where config_key = 'agencies'
),

-- An entry is a name (no attribute) or a mapping with name (or agency_name) and fee_model.
agency_entries as (
    select
        source_system,
        entry_key,
        max(case when attribute is null then config_value end) as plain_name,
        max(case when attribute = 'name' then config_value end) as entry_name,
        max(case when attribute = 'agency_name' then config_value end) as entry_agency_name,
        max(case when attribute = 'fee_model' then config_value end) as fee_model,
        max(source_file) as source_file
    from config
    group by source_system, entry_key
),

agencies as (
    select
        {{ crm_namespaced('source_system', 'entry_key') }} as agency_id,
        coalesce(entry_name, entry_agency_name, plain_name, entry_key) as agency_name,
        fee_model,
        source_system,
        source_file || '#agencies' as source_file,
        cast(row_number() over (
            partition by source_system order by entry_key
        ) as {{ dbt.type_bigint() }}) as source_row
    from agency_entries
)

select * from agencies
{%- endmacro %}
