{#- The clean-up of one canonical entity, shared by its staging model (stg_canonical__<entity>,
    over raw.<entity>) and its union model (int_canonical__<entity>, over the rows the dbt
    business rules give a CRM source, int_salesforce__<entity>): deduplicate by key (the row of
    the latest file wins), neutralise spreadsheet formulas, unknown for implausible dates and
    negative values, codes in one case. `relation`: a relation or CTE with the canonical raw
    columns and the audit columns _source_system, _source_file, _row_number, _loaded_at. Each
    macro returns one select statement (its own `with`), to be used as a CTE body. -#}

{% macro canonical_users(relation) -%}
    with deduplicated as (
        {{ deduplicate(relation, 'user_id', '_source_file desc, _row_number desc') }}
    ),

    distinct_roles as (
        select distinct
            user_id,
            upper(role) as rep_role
        from {{ relation }}
    ),

    roles as (
        select
            user_id,
            {{ dbt.listagg('rep_role', "','", 'order by rep_role') }} as rep_roles,
            count(*) as role_count,
            {{ dbt.bool_or("rep_role = 'SDR'") }} as has_sdr_role,
            {{ dbt.bool_or("rep_role = 'AE'") }} as has_ae_role
        from distinct_roles
        group by user_id
    ),

    final as (
        select
            deduplicated._source_system as source_system,
            deduplicated._source_file as source_file,
            deduplicated._row_number as source_row,
            deduplicated.user_id,
            deduplicated.user_name,
            deduplicated.email as user_email,
            coalesce(deduplicated.team_id, 'unassigned') as team_id,
            coalesce(
                {{ neutralised_text('deduplicated.team_name') }}, deduplicated.team_id, 'unassigned'
            ) as team_name,
            upper(deduplicated.role) as rep_role,
            roles.rep_roles,
            roles.role_count > 1 as has_several_roles,
            roles.has_sdr_role,
            roles.has_ae_role,
            coalesce(
                lower(deduplicated.motion),
                case when upper(deduplicated.role) = 'SDR' then 'inside' else 'field' end
            ) as sales_motion,
            deduplicated.agency_id,
            deduplicated.agency_id is not null as is_agency_rep,
            deduplicated.hired_date,
            coalesce(deduplicated.is_active, true) as is_active,
            deduplicated._loaded_at as loaded_at
        from deduplicated
        inner join roles
            on deduplicated.user_id = roles.user_id
    )

    select * from final
{%- endmacro %}

{% macro canonical_agencies(relation) -%}
    with deduplicated as (
        {{ deduplicate(relation, 'agency_id', '_source_file desc, _row_number desc') }}
    )

    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        agency_id,
        {{ neutralised_text('agency_name') }} as agency_name,
        {{ neutralised_text('lower(fee_model)') }} as fee_model,
        _loaded_at as loaded_at
    from deduplicated
{%- endmacro %}

{% macro canonical_accounts(relation) -%}
    with deduplicated as (
        {{ deduplicate(relation, 'account_id', '_source_file desc, _row_number desc') }}
    )

    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        account_id,
        {{ neutralised_text('account_name') }} as account_name,
        corporate_number,
        coalesce({{ neutralised_text('industry') }}, 'unknown') as industry,
        coalesce(
            {{ neutralised_text('employee_band') }},
            {{ company_size_band('employee_count') }},
            'unknown'
        ) as employee_band,
        employee_count,
        {{ neutralised_text('prefecture') }} as prefecture,
        created_at,
        _loaded_at as loaded_at
    from deduplicated
{%- endmacro %}

{% macro canonical_contacts(relation) -%}
    with deduplicated as (
        {{ deduplicate(relation, 'contact_id', '_source_file desc, _row_number desc') }}
    )

    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        contact_id,
        account_id,
        full_name as contact_name,
        lower(email) as contact_email,
        phone as contact_phone,
        title as contact_title,
        created_at,
        _loaded_at as loaded_at
    from deduplicated
{%- endmacro %}

{% macro canonical_leads(relation) -%}
    with deduplicated as (
        {{ deduplicate(relation, 'lead_id', '_source_file desc, _row_number desc') }}
    )

    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        lead_id,
        created_at,
        -- An empty origin is a lead source of its own, never a reason to drop the lead.
        coalesce({{ neutralised_text('lower(lead_source)') }}, 'unknown') as lead_source,
        lead_status,
        owner_id,
        agency_id,
        account_id,
        contact_id,
        {{ plausible_date('converted_at', 'event') }} as converted_at,
        converted_opportunity_id,
        _loaded_at as loaded_at
    from deduplicated
{%- endmacro %}

{% macro canonical_opportunities(relation) -%}
    with deduplicated as (
        {{ deduplicate(relation, 'opportunity_id', '_source_file desc, _row_number desc') }}
    )

    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        opportunity_id,
        account_id,
        owner_id,
        lead_id,
        sdr_id,
        -- Values that cannot be true become unknown here and are reported by int_value_defects:
        -- a date outside the plausible window, a negative amount; a won deal is closed.
        {{ plausible_date('created_at', 'event') }} as created_at,
        {{ plausible_date('close_date', 'plan') }} as close_date,
        {{ neutralised_text('opportunity_stage') }} as opportunity_stage,
        {{ neutralised_text('product') }} as product,
        {{ non_negative_value('amount') }} as amount,
        upper(currency) as currency,
        opportunity_type,
        is_closed or is_won as is_closed,
        is_won,
        {{ neutralised_text('lost_reason') }} as lost_reason,
        _loaded_at as loaded_at,
        -- When the nightly snapshot (snap_opportunities) sees this state: the as-of date, never
        -- the wall clock, so a night re-run on the same inputs gives the same stage history.
        cast({{ as_of_date() }} as {{ dbt.type_timestamp() }}) as snapshot_at
    from deduplicated
{%- endmacro %}

{% macro canonical_opportunity_stage_history(relation) -%}
    with deduplicated as (
        {{ deduplicate(
            relation,
            'opportunity_id, changed_at, opportunity_stage',
            '_source_file desc, _row_number desc'
        ) }}
    )

    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        opportunity_id,
        {{ neutralised_text('opportunity_stage') }} as opportunity_stage,
        changed_at as stage_entered_at,
        changed_by_id,
        _loaded_at as loaded_at
    from deduplicated
{%- endmacro %}

{% macro canonical_activities(relation) -%}
    with deduplicated as (
        {{ deduplicate(relation, 'activity_id', '_source_file desc, _row_number desc') }}
    )

    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        activity_id,
        activity_type,
        activity_at,
        owner_id,
        outcome as activity_outcome,
        {{ non_negative_value('duration_minutes') }} as duration_minutes,
        lead_id,
        opportunity_id,
        account_id,
        _loaded_at as loaded_at
    from deduplicated
{%- endmacro %}

{% macro canonical_exchange_rates(relation) -%}
    with deduplicated as (
        {{ deduplicate(
            relation,
            'rate_date, from_currency, to_currency',
            '_source_file desc, _row_number desc'
        ) }}
    )

    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        rate_date,
        upper(from_currency) as from_currency,
        upper(to_currency) as to_currency,
        rate,
        _loaded_at as loaded_at
    from deduplicated
{%- endmacro %}

{#- The union model of a canonical entity: the canonical rows (stg_canonical__<entity>, cleaned
    in staging) and the rows of each CRM (int_<crm>__<entity>, the kept rows of its dbt
    business rules, macro crm_rule_crms) under the same clean-up (canonical_<entity>), applied
    per source kind, in the canonical raw columns the rules give (crm_entity_columns); `casts`:
    those cast to the canonical raw type (column -> type); `deduplicate_by`: a key that is not
    namespaced by source, deduplicated across sources, the model's `output_columns` kept. A CRM
    row's loaded_at is when its source was landed (the latest load of its source.yml). -#}
{% macro canonical_union(entity, casts={}, deduplicate_by=none, output_columns=[]) -%}
{%- set clean_ups = {
    'users': canonical_users,
    'agencies': canonical_agencies,
    'accounts': canonical_accounts,
    'contacts': canonical_contacts,
    'leads': canonical_leads,
    'opportunities': canonical_opportunities,
    'opportunity_stage_history': canonical_opportunity_stage_history,
    'activities': canonical_activities,
    'exchange_rates': canonical_exchange_rates,
} -%}
with

canonical as (
    select * from {{ ref('stg_canonical__' ~ entity) }}
),
{%- for crm in crm_rule_crms(entity) %}

{{ crm }}_landed as (
    select
        source_system,
        max(loaded_at) as loaded_at
    from {{ ref('stg_' ~ crm ~ '__config') }}
    group by source_system
),

{{ crm }}_rows as (
    select
        {%- for column in crm_entity_columns(entity) %}
        {%- if column in casts %}
        cast(rules.{{ column }} as {{ casts[column] }}) as {{ column }},
        {%- else %}
        rules.{{ column }},
        {%- endif %}
        {%- endfor %}
        rules.source_system as _source_system,
        rules.source_file as _source_file,
        rules.source_row as _row_number,
        landed.loaded_at as _loaded_at
    from {{ ref('int_' ~ crm ~ '__' ~ entity) }} as rules
    left join {{ crm }}_landed as landed
        on rules.source_system = landed.source_system
),

{{ crm }}_cleaned as (
    {{ clean_ups[entity](crm ~ '_rows') }}
),
{%- endfor %}

unioned as (
    select * from canonical
    {%- for crm in crm_rule_crms(entity) %}
    union all
    select * from {{ crm }}_cleaned
    {%- endfor %}
)
{%- if deduplicate_by %},

-- A key that is not namespaced by source (a date and currency pair) can come from two
-- sources: the row of the latest file wins, as in one raw table.
deduplicated as (
    {{ deduplicate('unioned', deduplicate_by, 'source_file desc, source_row desc') }}
)

select
    {%- for column in output_columns %}
    {{ column }}{{ "," if not loop.last }}
    {%- endfor %}
from deduplicated
{%- else %}

select * from unioned
{%- endif %}
{%- endmacro %}

{#- The raw rows of a canonical entity from every source, as a subquery with the raw canonical
    columns and _source_file, _row_number: source('canonical', entity) union all the rows the
    dbt rules of each CRM keep (int_<crm>__<entity>, macro crm_rule_models). For checks that
    read the values before clean-up (int_value_defects). `columns`: the raw columns needed. -#}
{% macro canonical_raw_rows(entity, columns) -%}
    {#- The CRM values in the raw canonical column types (amount decimal(18, 2), not the
        rules' wider type), so an offending value reads the same whichever source gave it. -#}
    {%- set raw_types = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(source('canonical', entity)) -%}
            {%- do raw_types.update({column.name: column.data_type}) -%}
        {%- endfor -%}
    {%- endif %}
    (
        select
            {%- for column in columns %}
            {{ column }},
            {%- endfor %}
            _source_file,
            _row_number
        from {{ source('canonical', entity) }}
        {%- for rules in crm_rule_models(entity) %}
        union all
        select
            {%- for column in columns %}
            {%- if column in raw_types %}
            cast({{ column }} as {{ raw_types[column] }}) as {{ column }},
            {%- else %}
            {{ column }},
            {%- endif %}
            {%- endfor %}
            source_file as _source_file,
            source_row as _row_number
        from {{ rules }}
        {%- endfor %}
    )
{%- endmacro %}
