-- noqa: disable=AL03,LT02
-- (union members take their column names from the first select; Jinja loops confuse layout)
-- Every scorecard KPI as additive numerator / denominator per day × rep (the owner of the
-- record) × lead source × segment (industry, company size) × product, up to the as-of date,
-- with the rep's team on that day, role, motion and agency: the base that kpi_scorecard rolls
-- up to any period and scope.
-- Only facts dated on or before the as-of date count, so a past as-of date gives what the
-- marts said then (for facts that have not been edited since).
-- Activities take the lead source, account and product of the lead or opportunity they work
-- on; MRR movements have no rep, lead source or product.
{#- Incremental (macros/incremental/activity_batch.sql): a night that only adds activity files
    keeps the activity-only KPIs of the days it does not touch up to the last as-of date, and
    recomputes every other row; any other change rebuilds the table whole. -#}
{#- full_refresh: Spark's Parquet tables cannot delete a night's batch, every build there is a
    full one. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=(true if target.type == 'spark' else none),
    pre_hook="{{ delete_kpi_daily_batch() }}",
) }}
-- depends_on: {{ source('canonical', 'activities') }}
{%- set no_text = 'cast(null as ' ~ dbt.type_string() ~ ')' %}
{#- The grain of a row (its key, kpi_daily_id, hashes these). -#}
{%- set kpi_daily_grain = ['fact_date', 'rep_id', 'lead_source', 'industry', 'company_size', 'product', 'kpi_code'] %}
{#- Activity KPIs from one pass over the joined activities (int_activity_daily): each KPI names the
    counts of that pass that are its numerator and denominator, and the count of activities it
    covers (its filter); a KPI gets a row where that count is above zero. -#}
{%- set activity_kpis = [
    {'kpi': 'calls', 'numerator': 'calls', 'denominator': 'zero', 'covers': 'calls'},
    {'kpi': 'connect_rate', 'numerator': 'connected_calls', 'denominator': 'calls', 'covers': 'calls'},
    {'kpi': 'email_open_rate', 'numerator': 'opened_emails', 'denominator': 'sent_emails', 'covers': 'sent_emails'},
    {'kpi': 'appointments', 'numerator': 'appointments', 'denominator': 'zero', 'covers': 'appointments'},
    {'kpi': 'appointment_rate', 'numerator': 'call_appointments', 'denominator': 'calls', 'covers': 'calls'},
    {'kpi': 'meetings_held', 'numerator': 'meetings_held', 'denominator': 'zero', 'covers': 'meetings_held'},
    {'kpi': 'activities', 'numerator': 'activities', 'denominator': 'zero', 'covers': 'activities'},
    {'kpi': 'activity_minutes', 'numerator': 'activity_minutes', 'denominator': 'zero', 'covers': 'activities'},
    {'kpi': 'activities_per_rep_day', 'numerator': 'activities', 'denominator': 'zero', 'covers': 'activities', 'per_rep_day': true},
    {'kpi': 'activity_minutes_per_rep_day', 'numerator': 'activity_minutes', 'denominator': 'zero', 'covers': 'activities', 'per_rep_day': true},
    {'kpi': 'activities_per_won_deal', 'numerator': 'activities', 'denominator': 'zero', 'covers': 'activities'},
] %}
{%- set amount = 'cast(amount_reporting as ' ~ type_double() ~ ')' %}
{%- set opportunity_kpis = [
    {'kpi': 'opportunities_created', 'date': 'created_date', 'rep': 'rep_id', 'numerator': '1.0', 'denominator': '0.0', 'where': none},
    {'kpi': 'opportunities_sourced', 'date': 'created_date', 'rep': 'sdr_rep_id', 'numerator': '1.0', 'denominator': '0.0', 'where': 'sdr_rep_id is not null'},
    {'kpi': 'deals_won', 'date': 'won_date', 'rep': 'rep_id', 'numerator': '1.0', 'denominator': '0.0', 'where': 'is_won'},
    {'kpi': 'deals_lost', 'date': 'lost_date', 'rep': 'rep_id', 'numerator': '1.0', 'denominator': '0.0', 'where': 'is_lost'},
    {'kpi': 'win_rate', 'date': 'coalesce(won_date, lost_date)', 'rep': 'rep_id', 'numerator': 'case when is_won then 1.0 else 0.0 end', 'denominator': '1.0', 'where': 'is_closed'},
    {'kpi': 'win_rate_amount', 'date': 'coalesce(won_date, lost_date)', 'rep': 'rep_id', 'numerator': 'case when is_won then ' ~ amount ~ ' else 0.0 end', 'denominator': amount, 'where': 'is_closed and amount_reporting is not null'},
    {'kpi': 'win_rate_cohort', 'date': 'created_date', 'rep': 'rep_id', 'numerator': 'case when is_won and won_date <= ' ~ as_of_date() ~ ' then 1.0 else 0.0 end', 'denominator': '1.0', 'where': none},
    {'kpi': 'won_amount', 'date': 'won_date', 'rep': 'rep_id', 'numerator': amount, 'denominator': '0.0', 'where': 'is_won'},
    {'kpi': 'average_deal_size', 'date': 'won_date', 'rep': 'rep_id', 'numerator': amount, 'denominator': '1.0', 'where': 'is_won'},
    {'kpi': 'activities_per_won_deal', 'date': 'won_date', 'rep': 'rep_id', 'numerator': '0.0', 'denominator': '1.0', 'where': 'is_won'},
] %}
{%- set mrr_kpis = [
    {'kpi': 'new_mrr', 'amount': 'new_mrr'},
    {'kpi': 'expansion_mrr', 'amount': 'expansion_mrr'},
    {'kpi': 'lost_mrr', 'amount': 'churned_mrr + contraction_mrr'},
] %}
{%- set owner_kpis = [] %}
{%- for member in opportunity_kpis if member.rep == 'rep_id' %}{% do owner_kpis.append(member.kpi) %}{% endfor %}
{%- set sdr_kpis = ['opportunities_sourced', 'leads_created', 'lead_to_opportunity_rate'] %}
{#- The KPIs kept across a batch run must be those made of activity counts alone. -#}
{%- set deal_kpis = opportunity_kpis | map(attribute='kpi') | list %}
{%- set activity_only = [] %}
{%- for member in activity_kpis if not member.per_rep_day and member.kpi not in deal_kpis %}{% do activity_only.append(member.kpi) %}{% endfor %}
{%- if activity_only != activity_only_kpis() %}
    {{ exceptions.raise_compiler_error("fct_kpi_daily: macro activity_only_kpis() must list " ~ activity_only) }}
{%- endif %}
with leads as (
    select * from {{ ref('fct_leads') }}
),

activity_records as (
    select * from {{ ref('fct_activities') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

funnel_steps as (
    select * from {{ ref('int_opportunity_funnel_steps') }}
),

new_customers as (
    select * from {{ ref('int_new_customers') }}
),

mrr as (
    select * from {{ ref('fct_mrr_movements') }}
),

orders as (
    select * from {{ ref('int_orders_converted') }}
),

reps as (
    select * from {{ ref('dim_reps') }}
),

team_periods as (
    select * from {{ ref('int_rep_team_periods') }}
),

lead_sources as (
    select * from {{ ref('dim_lead_sources') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

-- The activity counts per day × rep × lead source × segment × product, one row each
-- (int_activity_daily: one pass over the activities, kept incrementally), before they become
-- one row per KPI.
activity_segments as (
    select
        *,
        0 as zero
    from {{ ref('int_activity_daily') }}
    where activity_date <= {{ as_of_date() }}
),

activity_kpi_codes as (
    {% for member in activity_kpis if member.kpi in activity_only -%}
    {% if not loop.first %}union all
    {% endif %}select '{{ member.kpi }}' as kpi_code
    {% endfor %}
),

-- The activity-only KPIs (no other fact shares their rows): the same counts, one row per KPI
-- (an unpivot by join, portable to every engine), already one row per group.
activity_facts as (
    select
        activity_segments.activity_date as fact_date,
        activity_segments.rep_id,
        activity_segments.lead_source,
        activity_segments.industry,
        activity_segments.company_size,
        activity_segments.product,
        activity_kpi_codes.kpi_code,
        case activity_kpi_codes.kpi_code
            {% for member in activity_kpis if member.kpi in activity_only -%}
            when '{{ member.kpi }}' then activity_segments.{{ member.covers }}
            {% endfor -%}
        end as covered_activities,
        case activity_kpi_codes.kpi_code
            {% for member in activity_kpis if member.kpi in activity_only -%}
            when '{{ member.kpi }}' then cast(activity_segments.{{ member.numerator }} as {{ type_double() }})
            {% endfor -%}
        end as numerator,
        case activity_kpi_codes.kpi_code
            {% for member in activity_kpis if member.kpi in activity_only -%}
            when '{{ member.kpi }}' then cast(activity_segments.{{ member.denominator }} as {{ type_double() }})
            {% endfor -%}
        end as denominator
    from activity_segments
    cross join activity_kpi_codes
    {%- if is_activity_batch_run(needs_previous_as_of=true) %}
    where {{ kpi_daily_batch_condition("cast('" ~ incremental_previous_as_of() ~ "' as date)", 'activity_segments.activity_date', 'activity_kpi_codes.kpi_code') }}
    {%- endif %}
),

-- Rep-days (営業日数) of the reps who sell (SDR, AE, CS): the business days from the later of
-- their hire date (else first activity) and the start of the activity data, to the as-of date
-- for active reps and to their last activity for reps who left. The denominator of the
-- activity-efficiency KPIs (営業活動の時間効率).
activity_spans as (
    select
        rep_id,
        min(activity_date) as first_activity_date,
        max(activity_date) as last_activity_date
    from activity_records
    group by rep_id
),

rep_spans as (
    select
        reps.rep_id,
        greatest(
            coalesce(reps.hired_date, activity_spans.first_activity_date),
            (select min(all_spans.first_activity_date) from activity_spans as all_spans)
        ) as first_day,
        case
            when reps.is_active then {{ as_of_date() }}
            else activity_spans.last_activity_date
        end as last_day
    from reps
    left join activity_spans
        on reps.rep_id = activity_spans.rep_id
    where reps.rep_role in ('SDR', 'AE', 'CS')
),

rep_days as (
    select
        calendar.date_day,
        rep_spans.rep_id
    from rep_spans
    inner join calendar
        on
            rep_spans.first_day <= calendar.date_day
            and rep_spans.last_day >= calendar.date_day
    where calendar.is_business_day
),

-- The facts of the other KPIs that carry an account (the rep-days carry none).
account_facts as (
    select
        created_date as fact_date,
        rep_id,
        lead_source,
        account_id,
        {{ no_text }} as product,
        'leads_created' as kpi_code,
        1.0 as numerator,
        0.0 as denominator
    from leads

    -- Cohort variant: leads created on the day that had converted by the as-of date.
    union all
    select
        created_date,
        rep_id,
        lead_source,
        account_id,
        {{ no_text }},
        'lead_to_opportunity_rate',
        case
            when is_converted and cast(converted_at as date) <= {{ as_of_date() }} then 1.0
            else 0.0
        end,
        1.0
    from leads

    -- Per-rep-day KPIs keep no lead source, segment or product: their denominator (rep-days)
    -- has none, so they exist for company, team, rep, role, motion and agency only.
    {% for kpi in ['activities_per_rep_day', 'activity_minutes_per_rep_day'] %}
    union all
    select
        date_day,
        rep_id,
        {{ no_text }},
        {{ no_text }},
        {{ no_text }},
        '{{ kpi }}',
        0.0,
        1.0
    from rep_days
    {% endfor %}

    -- opportunities_sourced credits the SDR (appointer, アポインター) whose lead the
    -- opportunity came from: the hand-off count an inside-sales team is measured on.
    {% for member in opportunity_kpis %}
    union all
    select
        {{ member.date }},
        {{ member.rep }},
        lead_source,
        account_id,
        product,
        '{{ member.kpi }}',
        {{ member.numerator }},
        {{ member.denominator }}
    from opportunities
    {% if member.where %}where {{ member.where }}{% endif %}
    {% endfor %}

    union all
    select
        cast(funnel_steps.reached_at as date),
        opportunities.rep_id,
        opportunities.lead_source,
        opportunities.account_id,
        opportunities.product,
        'qualified_opportunities',
        1.0,
        0.0
    from funnel_steps
    inner join opportunities
        on funnel_steps.opportunity_id = opportunities.opportunity_id
    where funnel_steps.funnel_step_order = {{ var('qualified_funnel_step_order') }}

    -- New customers (新規顧客) on the day they were acquired (int_new_customers: the first won
    -- new-business deal, else the first paying subscription), with that deal's or lead's rep.
    union all
    select
        acquired_date,
        rep_id,
        lead_source,
        account_id,
        product,
        'new_customers',
        1.0,
        0.0
    from new_customers

    -- Revenue (売上高), MRR basis: the MRR of every month it is billed, recognised in that month.
    union all
    select
        month_start_date,
        {{ no_text }},
        {{ no_text }},
        account_id,
        {{ no_text }},
        'recurring_revenue',
        cast(ending_mrr as {{ type_double() }}),
        0.0
    from mrr
    where ending_mrr > 0

    -- Revenue (売上高), order basis: order and invoice amounts on their date.
    union all
    select
        ordered_date,
        {{ no_text }},
        {{ no_text }},
        account_id,
        product,
        'order_revenue',
        cast(reporting_amount as {{ type_double() }}),
        0.0
    from orders
    where reporting_amount is not null

    {% for member in mrr_kpis %}
    union all
    select
        month_start_date,
        {{ no_text }},
        {{ no_text }},
        account_id,
        {{ no_text }},
        '{{ member.kpi }}',
        cast({{ member.amount }} as {{ type_double() }}),
        0.0
    from mrr
    where {{ member.amount }} > 0
    {% endfor %}
),

-- Segment (industry 業種, company size 従業員規模) from the account behind the fact; 'n/a' when
-- the fact has no account (rep-days), 'unknown' when the account has no value. The activity
-- counts of the KPIs that share rows with other facts join them here.
facts as (
    select
        account_facts.fact_date,
        account_facts.rep_id,
        account_facts.lead_source,
        {{ kpi_daily_segment_columns('account_facts.account_id', 'accounts', 'account_facts.product') }},
        account_facts.kpi_code,
        account_facts.numerator,
        account_facts.denominator
    from account_facts
    left join accounts
        on account_facts.account_id = accounts.account_id

    {% for member in activity_kpis if member.kpi not in activity_only %}
    union all
    select
        activity_date,
        rep_id,
        {% if member.per_rep_day -%}
        {{ no_text }},
        'n/a',
        'n/a',
        'n/a',
        {%- else -%}
        lead_source,
        industry,
        company_size,
        product,
        {%- endif %}
        '{{ member.kpi }}',
        cast({{ member.numerator }} as {{ type_double() }}),
        cast({{ member.denominator }} as {{ type_double() }})
    from activity_segments
    where {{ member.covers }} > 0
    {% endfor %}
),

aggregated as (
    select
        {{ kpi_daily_grain | join(',\n        ') }},
        {{ exact_sum('numerator') }} as numerator,
        {{ exact_sum('denominator') }} as denominator
    from facts
    -- No activity-only KPI is among these facts: a batch run recomputes all of them.
    where fact_date is not null and fact_date <= {{ as_of_date() }}
    group by 1, 2, 3, 4, 5, 6, 7

    -- The activity-only KPIs are already one row per group.
    union all
    select
        {{ kpi_daily_grain | join(',\n        ') }},
        numerator,
        denominator
    from activity_facts
    where covered_activities > 0
),

-- Each fact counts for the team the rep was in on its date (rep_team_history).
final as (
    select
        {{ dbt.hash(
            "cast(aggregated.fact_date as " ~ dbt.type_string() ~ ") || '|' || "
            ~ "coalesce(aggregated.rep_id, '') || '|' || coalesce(aggregated.lead_source, '') || '|' || "
            ~ "aggregated.industry || '|' || aggregated.company_size || '|' || aggregated.product"
            ~ " || '|' || aggregated.kpi_code"
        ) }} as kpi_daily_id,
        aggregated.fact_date,
        coalesce(aggregated.rep_id, 'unassigned') as rep_id,
        coalesce(team_periods.team_id, 'unassigned') as team_id,
        -- The role on the record: a person who is the SDR on some deals and the closer on others
        -- counts as AE for the deals they own and as SDR for the leads and deals they sourced.
        case
            when aggregated.kpi_code in ('{{ owner_kpis | join("', '") }}') and reps.has_ae_role
                then 'AE'
            when aggregated.kpi_code in ('{{ sdr_kpis | join("', '") }}') and reps.has_sdr_role
                then 'SDR'
            else coalesce(reps.rep_role, 'unassigned')
        end as rep_role,
        coalesce(reps.sales_motion, 'unassigned') as sales_motion,
        coalesce(reps.agency_key, 'in_house') as agency_key,
        coalesce(aggregated.lead_source, 'n/a') as lead_source,
        coalesce(lead_sources.channel, 'n/a') as channel,
        aggregated.industry,
        aggregated.company_size,
        aggregated.product,
        aggregated.kpi_code,
        aggregated.numerator,
        aggregated.denominator
    from aggregated
    left join reps
        on aggregated.rep_id = reps.rep_id
    left join team_periods
        on
            aggregated.rep_id = team_periods.rep_id
            and aggregated.fact_date >= team_periods.valid_from_date
            and (team_periods.valid_to_date is null or aggregated.fact_date < team_periods.valid_to_date)
    left join lead_sources
        on aggregated.lead_source = lead_sources.lead_source
)

select * from final
