{#- Every dated event of the staged inputs, one row per record and date column: what the
    calendar (dim_date) must cover. Used by dim_date for its bounds and by the test
    assert_events_inside_calendar, which names the record, file and row of an event outside
    fixed bounds. A date outside the plausible window (rule implausible_date, macro
    is_implausible_date; 'plan' for the dates of plans and expectations) is no event: it never
    stretches the calendar, and without a calendar day it counts in no dated KPI. -#}
{% macro calendar_event_dates(with_lineage=false) -%}
    {%- set events = [
        ('leads', 'int_canonical__leads', 'lead_id', 'created_at'),
        ('leads', 'int_canonical__leads', 'lead_id', 'converted_at'),
        ('opportunities', 'int_canonical__opportunities', 'opportunity_id', 'created_at'),
        ('opportunities', 'int_canonical__opportunities', 'opportunity_id', 'close_date'),
        ('opportunity_stage_history', 'int_canonical__opportunity_stage_history', 'opportunity_id', 'stage_entered_at'),
        ('activities', 'int_canonical__activities', 'activity_id', 'activity_at'),
        ('subscriptions', 'stg_canonical__subscriptions', 'subscription_item_id', 'start_date'),
        ('subscriptions', 'stg_canonical__subscriptions', 'subscription_item_id', 'end_date'),
        ('orders', 'stg_canonical__orders', 'order_id', 'ordered_at'),
        ('satisfaction_surveys', 'stg_canonical__satisfaction_surveys', 'response_id', 'responded_at'),
        ('spend', 'stg_canonical__spend', 'channel', 'spend_month_start_date'),
        ('targets', 'stg_canonical__targets', 'kpi_code', 'period_start_date'),
        ('rep_team_history', 'stg_canonical__rep_team_history', 'user_id', 'valid_from_date'),
        ('users', 'int_canonical__users', 'user_id', 'hired_date'),
    ] -%}
    {%- set plan_columns = ['close_date', 'end_date', 'period_start_date', 'spend_month_start_date'] %}
    {%- for entity, model, id_column, date_column in events %}
    select
        {%- if with_lineage %}
        '{{ entity }}' as entity,
        cast({{ id_column }} as {{ dbt.type_string() }}) as record_id,
        source_file,
        source_row,
        '{{ date_column }}' as event_column,
        {%- endif %}
        cast({{ date_column }} as date) as event_date
    from {{ ref(model) }}
    where
        {{ date_column }} is not null
        and not {{ is_implausible_date(
            date_column, 'plan' if date_column in plan_columns else 'event'
        ) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- The first day of the fiscal year (dbt var fiscal_year_start_month) holding the date. -#}
{% macro fiscal_year_start(date_expression) -%}
    {%- set fy_start = var('fiscal_year_start_month') | int -%}
    cast({{ dbt.dateadd(
        'month',
        '-1 * mod(cast(extract(month from ' ~ date_expression ~ ') as integer) - ' ~ fy_start ~ ' + 12, 12)',
        dbt.date_trunc('month', date_expression)
    ) }} as date)
{%- endmacro %}

{#- The company size band (従業員規模) of an employee count: the label of the band with the
    highest lower bound (dbt var company_size_bands) the count reaches; null when unknown or
    below every band. -#}
{% macro company_size_band(count_expression) -%}
    {%- set bands = var('company_size_bands') | sort(attribute='min', reverse=true) -%}
    case
        {%- for band in bands %}
        when {{ count_expression }} >= {{ band['min'] | int }} then '{{ band["label"] }}'
        {%- endfor %}
    end
{%- endmacro %}

{#- The lenient matching key of a product name: lower case, letters and digits only (full-width
    forms are folded by the mapping's normalisation before they get here). -#}
{% macro product_match_key(expression) -%}
    {{ return(adapter.dispatch('product_match_key', 'sales_kpi')(expression)) }}
{%- endmacro %}

{% macro default__product_match_key(expression) -%}
    lower(regexp_replace({{ expression }}, '[^0-9A-Za-z]', '', 'g'))
{%- endmacro %}

{% macro spark__product_match_key(expression) -%}
    lower(regexp_replace({{ expression }}, '[^0-9A-Za-z]', ''))
{%- endmacro %}
