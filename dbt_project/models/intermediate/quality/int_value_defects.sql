-- Values that cannot be true, one row per record, column and rule (seed data_quality_rules).
-- Staging has already made them harmless (macros in macros/quality/value_checks.sql): an
-- implausible date or a negative amount is unknown there, a won deal is closed, a formula is
-- neutralised. This model reads the raw rows that staging kept (the same file and row) and
-- reports each value with what became of it, so nothing is changed without a word.
{%- set text = dbt.type_string() %}
{%- set window = var('plausible_start_date') ~ ' to the as-of date + ' %}
{%- set event_window = window ~ var('plausible_event_days_after_as_of') ~ ' days' %}
{%- set plan_window = window ~ var('plausible_plan_years_after_as_of') ~ ' years' %}
{#- (rule, entity, raw table, staging model, key, raw column, condition, offending values) -#}
{%- set checks = [] %}
{%- for entity, model, key, column, horizon, effect in [
    ('opportunities', 'int_canonical__opportunities', 'opportunity_id', 'created_at', 'event', 'treated as unknown'),
    ('opportunities', 'int_canonical__opportunities', 'opportunity_id', 'close_date', 'plan', 'treated as unknown'),
    ('leads', 'int_canonical__leads', 'lead_id', 'created_at', 'event', 'counted in no dated KPI'),
    ('leads', 'int_canonical__leads', 'lead_id', 'converted_at', 'event', 'treated as unknown'),
    ('activities', 'int_canonical__activities', 'activity_id', 'activity_at', 'event', 'counted in no dated KPI'),
] %}
    {%- do checks.append((
        'implausible_date', entity, model, key,
        is_implausible_date('raw.' ~ column, horizon),
        "'" ~ column ~ "=' || cast(raw." ~ column ~ " as " ~ text ~ ") || ' is outside "
        ~ (event_window if horizon == 'event' else plan_window) ~ ": " ~ effect ~ "'"
    )) %}
{%- endfor %}
{%- do checks.append((
    'negative_amount', 'opportunities', 'int_canonical__opportunities', 'opportunity_id',
    'raw.amount < 0',
    "'amount=' || cast(raw.amount as " ~ text ~ ") || ': treated as unknown'"
)) %}
{%- do checks.append((
    'negative_duration', 'activities', 'int_canonical__activities', 'activity_id',
    'raw.duration_minutes < 0',
    "'duration_minutes=' || cast(raw.duration_minutes as " ~ text ~ ") || ': treated as unknown'"
)) %}
{%- do checks.append((
    'won_not_closed', 'opportunities', 'int_canonical__opportunities', 'opportunity_id',
    'raw.is_won and not raw.is_closed',
    "'is_won=true, is_closed=false: counted as won and closed'"
)) %}
{%- for entity, model, key in [
    ('opportunities', 'int_canonical__opportunities', 'opportunity_id'),
    ('leads', 'int_canonical__leads', 'lead_id'),
    ('accounts', 'int_canonical__accounts', 'account_id'),
    ('activities', 'int_canonical__activities', 'activity_id'),
    ('users', 'int_canonical__users', 'user_id'),
] %}
    {%- do checks.append((
        'line_break_in_id', entity, model, key,
        "(raw." ~ key ~ " like '%' || chr(10) || '%' or raw." ~ key ~ " like '%' || chr(13) || '%')",
        "'" ~ key ~ " holds a line break: the record counts under the id as exported'"
    )) %}
{%- endfor %}
{%- for entity, model, key, columns in [
    ('accounts', 'int_canonical__accounts', 'account_id', ['account_name', 'industry', 'employee_band', 'prefecture']),
    ('users', 'int_canonical__users', 'user_id', ['team_name']),
    ('teams', 'stg_canonical__teams', 'team_id', ['team_name']),
    ('agencies', 'int_canonical__agencies', 'agency_id', ['agency_name', 'fee_model']),
    ('products', 'stg_canonical__products', 'product', ['product']),
    ('opportunities', 'int_canonical__opportunities', 'opportunity_id', ['opportunity_stage', 'product', 'lost_reason']),
    ('subscriptions', 'stg_canonical__subscriptions', 'subscription_item_id', ['product']),
    ('leads', 'int_canonical__leads', 'lead_id', ['lead_source']),
    ('opportunity_stage_history', 'int_canonical__opportunity_stage_history', 'opportunity_id', ['opportunity_stage']),
] %}
    {%- for column in columns %}
        {%- do checks.append((
            'spreadsheet_formula', entity, model, key,
            is_spreadsheet_formula('raw.' ~ column),
            "'" ~ column ~ " starts with ' || substr(raw." ~ column ~ ", 1, 1)"
            ~ " || ': published with a leading single quote, as text'"
        )) %}
    {%- endfor %}
{%- endfor %}
{#- The raw columns each check reads, per model (its key and every raw.<column>). -#}
{%- set raw_columns = {} %}
{%- for rule, entity, model, key, condition, offending in checks %}
    {%- set found = raw_columns.setdefault(model, [key]) %}
    {%- for column in modules.re.findall('raw\\.([a-z_]+)', condition ~ ' ' ~ offending) %}
        {%- if column not in found %}{% do found.append(column) %}{% endif %}
    {%- endfor %}
{%- endfor %}
with
{%- for rule, entity, model, key, condition, offending in checks %}
check_{{ loop.index }} as (
    select
        '{{ rule }}' as rule_code,
        '{{ entity }}' as entity,
        cast(staged.{{ key }} as {{ text }}) as record_id,
        staged.source_system,
        staged.source_file,
        staged.source_row,
        {{ offending }} as offending_values
    from {{ canonical_raw_rows(
        model.replace('stg_canonical__', '').replace('int_canonical__', ''),
        raw_columns[model],
    ) }} as raw
    inner join {{ ref(model) }} as staged
        on raw._source_file = staged.source_file and raw._row_number = staged.source_row
    where {{ condition }}
),
{%- endfor %}

opportunities as (
    select * from {{ ref('int_canonical__opportunities') }}
),

history as (
    select * from {{ ref('int_canonical__opportunity_stage_history') }}
),

stage_lookup as (
    select * from {{ ref('int_stage_map_resolved') }}
),

-- A stage the seed stage_map does not know, as the deal's current stage or in its history: the
-- deal counts (won, lost or open as its flags say) under funnel step 'unmapped'.
stage_rows as (
    select
        opportunity_id,
        source_system,
        source_file,
        source_row,
        opportunity_stage,
        'opportunity_stage' as stage_column
    from opportunities
    union all
    select
        opportunity_id,
        source_system,
        source_file,
        source_row,
        opportunity_stage,
        'stage history opportunity_stage'
    from history
),

unknown_stages as (
    select
        'unknown_stage' as rule_code,
        'opportunities' as entity,
        stage_rows.opportunity_id as record_id,
        stage_rows.source_system,
        stage_rows.source_file,
        stage_rows.source_row,
        stage_rows.stage_column || '=' || stage_rows.opportunity_stage
        || ' (source ' || stage_rows.source_system || ') is not in the seed stage_map'
            as offending_values
    from stage_rows
    left join stage_lookup
        on
            stage_rows.source_system = stage_lookup.source_system
            and stage_rows.opportunity_stage = stage_lookup.opportunity_stage
    where stage_lookup.funnel_step is null
),

money as (
    select * from {{ ref('int_money_converted') }}
    where amount is not null and reporting_rate is null
),

-- An amount in a currency without an exchange rate: its converted amount is unknown.
missing_rates as (
    {%- for record_type, entity, model, key in [
        ('opportunity', 'opportunities', 'int_canonical__opportunities', 'opportunity_id'),
        ('subscription_item', 'subscriptions', 'stg_canonical__subscriptions', 'subscription_item_id'),
        ('order', 'orders', 'stg_canonical__orders', 'order_id'),
    ] %}
    select
        'missing_exchange_rate' as rule_code,
        '{{ entity }}' as entity,
        money.record_id,
        staged.source_system,
        staged.source_file,
        staged.source_row,
        'currency=' || money.currency || ', no rate to {{ var("reporting_currency") }} dated on or before '
        || cast(money.rate_date as {{ text }}) as offending_values
    from money
    inner join {{ ref(model) }} as staged
        on money.record_id = staged.{{ key }}
    where money.record_type = '{{ record_type }}'
    union all
    {%- endfor %}
    select
        'missing_exchange_rate',
        'spend',
        money.record_id,
        cast(null as {{ text }}),
        cast(null as {{ text }}),
        cast(null as bigint),
        'currency=' || money.currency || ', no rate to {{ var("reporting_currency") }} dated on or before '
        || cast(money.rate_date as {{ text }})
    from money
    where money.record_type = 'spend'
),

-- A lead source neither in the seed lead_source_channels nor declared (lead_sources.csv or a
-- mapping's lead_sources): channel 'unmapped' in dim_lead_sources.
leads as (
    select * from {{ ref('int_canonical__leads') }}
),

mapped_sources as (
    select lead_source from {{ ref('lead_source_channels') }}
    union
    select lead_source from {{ ref('stg_canonical__lead_sources') }}
),

unmapped_sources as (
    select
        'unmapped_lead_source' as rule_code,
        'leads' as entity,
        leads.lead_id as record_id,
        leads.source_system,
        leads.source_file,
        leads.source_row,
        'lead_source=' || leads.lead_source || ' has no channel (unmapped)' as offending_values
    from leads
    left join mapped_sources
        on leads.lead_source = mapped_sources.lead_source
    where mapped_sources.lead_source is null
),

final as (
    {%- for check in checks %}
    select * from check_{{ loop.index }}
    union all
    {%- endfor %}
    select * from unknown_stages
    union all
    select * from missing_rates
    union all
    select * from unmapped_sources
)

select * from final
