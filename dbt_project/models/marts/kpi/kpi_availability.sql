-- Which KPI marts (and scorecard KPI groups) the loaded exports can fill, and why not when
-- not. Only leads or opportunities are required (the raw gate's required_inputs check); every
-- other export is optional, so a deals-only export publishes with the activity, lead and MRR
-- marts empty. A BI user reads this table to tell "no data loaded" from "zero".
-- One row per mart (kpi_group 'all') and per scorecard KPI group. is_available: every input
-- of `inputs` has a row (with any_of: at least one has); reason names the first missing
-- input and what stays empty; input_rows = rows of the listed inputs (raw tables, i.e.
-- loaded rows after quarantine).
{%- set requirements = [
    {'mart': 'kpi_funnel_conversion', 'group': 'all', 'any_of': true,
     'inputs': ['leads', 'opportunities'],
     'reason': 'no leads and no opportunities export loaded: every funnel conversion is empty'},
    {'mart': 'kpi_cac', 'group': 'all', 'inputs': ['opportunities', 'spend'],
     'reasons': {
        'opportunities': 'no opportunities export loaded: no new customers, CAC is empty',
        'spend': 'no spend export loaded: spend is 0 and CAC, payback and LTV:CAC are null (new customers are still counted)'}},
    {'mart': 'kpi_retention', 'group': 'all', 'inputs': ['subscriptions'],
     'reasons': {'subscriptions': 'no subscriptions export loaded: MRR cohorts, logo and revenue retention are empty'}},
    {'mart': 'kpi_sales_cycle_deals', 'group': 'all', 'inputs': ['opportunities'],
     'reasons': {'opportunities': 'no opportunities export loaded: no won deal, sales cycle is empty'}},
    {'mart': 'kpi_sales_cycle', 'group': 'all', 'inputs': ['opportunities'],
     'reasons': {'opportunities': 'no opportunities export loaded: no won deal, sales cycle is empty'}},
    {'mart': 'kpi_scorecard', 'group': 'all', 'any_of': true,
     'inputs': ['leads', 'opportunities'],
     'reason': 'no leads and no opportunities export loaded: the scorecard is empty'},
    {'mart': 'kpi_scorecard', 'group': 'lead_kpis', 'inputs': ['leads'],
     'reasons': {'leads': 'no leads export loaded: lead KPIs (leads created, lead to opportunity rate, opportunities sourced by SDR) are 0 or null'}},
    {'mart': 'kpi_scorecard', 'group': 'activity_kpis', 'inputs': ['activities'],
     'reasons': {'activities': 'no activities export loaded: activity KPIs (calls, connect rate, appointments, meetings held, activities per rep-day) are empty'}},
    {'mart': 'kpi_scorecard', 'group': 'deal_kpis', 'inputs': ['opportunities'],
     'reasons': {'opportunities': 'no opportunities export loaded: deal KPIs (opportunities created, win rate, won amount, new customers) are 0 or null'}},
    {'mart': 'kpi_scorecard', 'group': 'mrr_kpis', 'inputs': ['subscriptions'],
     'reasons': {'subscriptions': 'no subscriptions export loaded: MRR KPIs (new, expansion and lost MRR, recurring revenue) are 0'}},
    {'mart': 'kpi_scorecard', 'group': 'order_kpis', 'inputs': ['orders'],
     'reasons': {'orders': 'no orders export loaded: order revenue is 0'}},
    {'mart': 'kpi_scorecard', 'group': 'targets', 'inputs': ['targets'],
     'reasons': {'targets': 'no targets export loaded: target, attainment, pace and status are null'}},
    {'mart': 'kpi_handoff', 'group': 'all', 'inputs': ['opportunities'],
     'reasons': {'opportunities': 'no opportunities export loaded: SDR to AE hand-off is empty'}},
    {'mart': 'kpi_agency_performance', 'group': 'all', 'any_of': true,
     'inputs': ['activities', 'opportunities', 'spend'],
     'reason': 'no activities, opportunities or spend export loaded: agency performance is empty'},
    {'mart': 'kpi_reverse_planning', 'group': 'all', 'inputs': ['targets', 'opportunities'],
     'reasons': {
        'targets': 'no targets export loaded: no won amount target to plan back from, reverse planning is empty',
        'opportunities': 'no opportunities export loaded: no win rate or deal size, the required counts are null'}},
    {'mart': 'kpi_stage_velocity', 'group': 'all', 'inputs': ['opportunities'],
     'reasons': {'opportunities': 'no opportunities export loaded: stage velocity is empty'}},
    {'mart': 'kpi_pipeline', 'group': 'all', 'inputs': ['opportunities'],
     'reasons': {'opportunities': 'no opportunities export loaded: the pipeline is empty'}},
    {'mart': 'kpi_customer_engagement', 'group': 'all', 'any_of': true,
     'inputs': ['orders', 'satisfaction_surveys'],
     'reason': 'no orders and no satisfaction_surveys export loaded: customer engagement is empty'},
] -%}
{%- set inputs = [] -%}
{%- for requirement in requirements -%}
    {%- for name in requirement['inputs'] if name not in inputs -%}
        {%- do inputs.append(name) -%}
    {%- endfor -%}
{%- endfor %}

{#- Rows loaded: the raw canonical rows plus the CRM rows the dbt rules keep. #}

with input_counts as (
    select
    {%- for name in inputs %}
        (select count(*) from {{ source('canonical', name) }})
        {%- for rules in crm_rule_models(name) %}
            + (select count(*) from {{ rules }})
        {%- endfor %} as {{ name }}
        {{- "," if not loop.last }}
    {%- endfor %}
),

requirements as (
{%- for requirement in requirements %}
    select
        '{{ requirement["mart"] }}' as mart_name,
        '{{ requirement["group"] }}' as kpi_group,
        '{{ requirement["inputs"] | join(" or " if requirement.get("any_of") else ", ") }}'
            as required_inputs,
        {{ requirement['inputs'] | join(' + ') }} as input_rows,
    {%- if requirement.get('any_of') %}
        case when {{ requirement['inputs'] | join(' + ') }} > 0 then null
            else '{{ requirement["reason"] }}' end as reason
    {%- else %}
        case
        {%- for name in requirement['inputs'] %}
            when {{ name }} = 0 then '{{ requirement["reasons"][name] }}'
        {%- endfor %}
        end as reason
    {%- endif %}
    from input_counts
    {{- "\n    union all" if not loop.last }}
{%- endfor %}
),

final as (
    select
        mart_name,
        kpi_group,
        reason is null as is_available,
        reason,
        required_inputs,
        cast(input_rows as bigint) as input_rows
    from requirements
)

select * from final
