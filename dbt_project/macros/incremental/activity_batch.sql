{#- Incremental nights (docs: README "Incremental nights").

    The pipeline decides each night whether the activity facts can be updated in place
    (orchestration/lib/incremental.py): only when every change since the last successful build
    is a new canonical activities file, with the same code, vars and every other input. It then
    hands dbt the watermark of that build, the newest raw `_loaded_at` it had read, in the
    environment variable SALES_KPI_INCREMENTAL_SINCE; otherwise it runs `dbt build --full-refresh`.

    The batch of a night is every activity id that has a raw row loaded after the watermark. Raw
    rows of unchanged files keep their `_loaded_at` (the loader appends new files only), so
    the batch is the new files' ids; every version of such an id (the new one and any older
    one it supersedes, "later files win") is still in the raw table, so the days both were
    dated on are recomputed.

    An incremental run without a watermark (dbt run by hand on a built database) recomputes
    everything: the pre-hooks empty the table first, so the result still equals a full build.
-#}

{#- The value of environment variable `name`, read only when SQL is compiled (so that a new
    value every night does not make dbt parse the project again), or none when unset or empty;
    a value that does not match `pattern` stops compilation: "<name> must be <what>, got
    '<value>'<hint>". -#}
{% macro compile_time_env(name, pattern, what, hint='') -%}
    {%- set value = none -%}
    {%- if execute -%}
        {%- set value = env_var(name, '') | trim -%}
    {%- endif -%}
    {%- if value and not modules.re.match(pattern, value) -%}
        {{ exceptions.raise_compiler_error(
            name ~ " must be " ~ what ~ ", got '" ~ value ~ "'" ~ hint
        ) }}
    {%- endif -%}
    {{- return(value or none) -}}
{%- endmacro %}

{#- The watermark (a timestamp as text), or none. -#}
{% macro incremental_since() -%}
    {{- return(compile_time_env(
        'SALES_KPI_INCREMENTAL_SINCE', '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:.]+$',
        'a timestamp YYYY-MM-DD HH:MM:SS[.ffffff]',
        '; unset it to rebuild the activity facts whole'
    )) -}}
{%- endmacro %}

{#- True in an incremental run that has a watermark: only the night's batch is recomputed.
    `needs_previous_as_of`: the model also needs the last build's as-of date (fct_kpi_daily). -#}
{% macro is_activity_batch_run(needs_previous_as_of=false) -%}
    {%- set batch = is_incremental() and incremental_since() is not none -%}
    {%- if needs_previous_as_of and incremental_previous_as_of() is none -%}
        {%- set batch = false -%}
    {%- endif -%}
    {{- return(batch) -}}
{%- endmacro %}

{#- The activity ids of the night's batch: ids with a raw row loaded after the watermark. -#}
{% macro activity_batch_ids() -%}
    select activity_id
    from {{ source('canonical', 'activities') }}
    where _loaded_at > cast('{{ incremental_since() }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The days the night's batch touches: the dates of every raw version of a batch id.
    Nothing else moves an old activity between days or attributes: the activity facts read no
    as-of date, and neither do the lead and deal attributes they take (lead source, account,
    product: the as-of date only bounds leads' conversion dates and deals' dates and stages);
    tests/test_incremental.py moves the as-of date between the two nights it compares. -#}
{% macro activity_batch_days() -%}
    select distinct cast(activity_at as date) as activity_date
    from {{ source('canonical', 'activities') }}
    where activity_id in ({{ activity_batch_ids() }})
{%- endmacro %}

{#- Pre-hook of an incremental activity model: in a batch run, delete the rows `column` (ids or
    days) says the batch recomputes; in an incremental run without a watermark, every row. -#}
{% macro delete_activity_batch(column, batch_sql) -%}
    {%- if is_incremental() -%}
        {%- if incremental_since() is none -%}
            delete from {{ this }}
        {%- else -%}
            delete from {{ this }} where {{ column }} in ({{ batch_sql }})
        {%- endif -%}
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}

{#- The as-of date of the last build (a date as text), or none. -#}
{% macro incremental_previous_as_of() -%}
    {{- return(compile_time_env(
        'SALES_KPI_INCREMENTAL_PREVIOUS_AS_OF', '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', 'a date YYYY-MM-DD'
    )) -}}
{%- endmacro %}

{#- The KPIs of fct_kpi_daily made of activity counts alone (no rep-days, no deals): their rows
    on a day depend on that day's activities and the dimensions only, never on the as-of date
    (beyond counting days up to it). A batch run keeps them for the days it does not touch. -#}
{% macro activity_only_kpis() -%}
    {{- return(['calls', 'connect_rate', 'email_open_rate', 'appointments', 'appointment_rate',
        'meetings_held', 'activities', 'activity_minutes']) -}}
{%- endmacro %}

{#- Which fct_kpi_daily rows a batch run recomputes: every row of the other KPIs, and the
    activity-only KPIs on the days the batch touches or after the last build's as-of date
    (`as_of`: the lower of the two as-of dates, for the delete), of columns `fact_date` and
    `kpi_code`. -#}
{% macro kpi_daily_batch_condition(as_of, fact_date='fact_date', kpi_code='kpi_code') -%}
    (
        {{ kpi_code }} not in ('{{ activity_only_kpis() | join("', '") }}')
        or {{ fact_date }} in ({{ activity_batch_days() }})
        or {{ fact_date }} > {{ as_of }}
    )
{%- endmacro %}

{#- Pre-hook of fct_kpi_daily (as delete_activity_batch, for its batch condition). A batch run
    without the last build's as-of date recomputes everything. -#}
{% macro delete_kpi_daily_batch() -%}
    {%- if is_incremental() -%}
        {%- set previous = incremental_previous_as_of() -%}
        {%- if incremental_since() is none or previous is none -%}
            delete from {{ this }}
        {%- else -%}
            delete from {{ this }} where {{ kpi_daily_batch_condition(
                'least(' ~ as_of_date() ~ ", cast('" ~ previous ~ "' as date))"
            ) }}
        {%- endif -%}
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}
