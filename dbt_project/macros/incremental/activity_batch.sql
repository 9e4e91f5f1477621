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

{#- The watermark (a timestamp as text), or none. Read only when SQL is compiled, so that a
    new value every night does not make dbt parse the project again. -#}
{% macro incremental_since() -%}
    {%- set since = none -%}
    {%- if execute -%}
        {%- set since = env_var('SALES_KPI_INCREMENTAL_SINCE', '') | trim -%}
    {%- endif -%}
    {%- if since and not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:.]+$', since) -%}
        {{ exceptions.raise_compiler_error(
            "SALES_KPI_INCREMENTAL_SINCE must be a timestamp YYYY-MM-DD HH:MM:SS[.ffffff], got '"
            ~ since ~ "'; unset it to rebuild the activity facts whole"
        ) }}
    {%- endif -%}
    {{- return(since or none) -}}
{%- endmacro %}

{#- True in an incremental run that has a watermark: only the night's batch is recomputed. -#}
{% macro is_activity_batch_run() -%}
    {{- return(is_incremental() and incremental_since() is not none) -}}
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
