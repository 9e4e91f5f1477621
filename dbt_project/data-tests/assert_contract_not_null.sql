-- The contracts' not_null constraints, checked as data: one row per model and constrained
-- column holding a null. Spark's Parquet tables take no NOT NULL constraint (dbt-spark alters
-- Delta tables only), so there this test is what enforces them; DuckDB and PostgreSQL enforce
-- them already, and the test runs there too, so that every engine builds the same dbt nodes
-- (the Dagster assets and checks come from one manifest). The list mirrors the not_null
-- constraints of the models' yml (tests/test_dbt_portable_constraints.py checks it does).
{%- set constrained = {
    'data_quality_issues': ['issue_id', 'rule_code', 'severity', 'entity', 'record_id'],
    'kpi_funnel_conversion': ['funnel_conversion_id', 'period_grain', 'period_start_date', 'period_end_date', 'lead_source', 'channel', 'team_id', 'rep_id', 'conversion_step', 'numerator_count', 'denominator_count'],
    'kpi_cac': ['cac_id', 'period_grain', 'period_start_date', 'period_end_date', 'channel', 'agency_key', 'currency'],
    'kpi_retention': ['retention_id', 'period_grain', 'cohort_period_start_date', 'periods_since_acquisition', 'period_start_date', 'period_end_date', 'measured_month_start_date', 'scope_type', 'scope_id', 'currency'],
    'kpi_sales_cycle_deals': ['opportunity_id', 'won_month_start_date', 'rep_id', 'team_id', 'lead_source', 'channel', 'agency_key', 'currency'],
    'kpi_sales_cycle': ['sales_cycle_id', 'period_grain', 'period_start_date', 'period_end_date', 'team_id', 'lead_source'],
    'kpi_availability': ['mart_name', 'kpi_group', 'is_available', 'required_inputs', 'input_rows'],
    'kpi_customer_engagement': ['engagement_id', 'period_grain', 'period_start_date', 'period_end_date', 'scope_type', 'scope_id', 'ordering_customers', 'repeat_customers', 'customers_with_orders_to_date', 'repeat_customers_to_date', 'orders', 'order_amount', 'currency', 'quantity', 'survey_responses', 'score_sum', 'normalised_responses', 'normalised_score_sum'],
    'kpi_handoff': ['handoff_id', 'period_grain', 'period_start_date', 'period_end_date', 'sdr_rep_id', 'ae_rep_id', 'sourced_by', 'opportunities_created', 'opportunities_accepted', 'won_deals', 'closed_deals', 'won_amount', 'currency', 'won_deals_with_cycle', 'sum_days_opportunity_to_won'],
    'kpi_agency_performance': ['agency_performance_id', 'period_grain', 'period_start_date', 'period_end_date', 'agency_key', 'is_outsourced', 'activities', 'calls', 'connected_calls', 'appointments_set', 'opportunities_created', 'won_deals', 'won_amount', 'has_fee_data', 'fee_amount', 'currency'],
    'kpi_reverse_planning': ['reverse_planning_id', 'period_grain', 'period_start_date', 'period_end_date', 'as_of_date', 'lookback_start_date', 'scope_type', 'scope_id', 'business_days_in_period'],
    'kpi_scorecard': ['scorecard_id', 'period_grain', 'period_start_date', 'scope_type', 'scope_id', 'kpi_code', 'numerator', 'denominator', 'business_days'],
    'kpi_stage_velocity': ['stage_velocity_id', 'period_grain', 'period_start_date', 'period_end_date', 'scope_type', 'scope_id', 'funnel_step', 'transitions_exited', 'sum_days_in_stage', 'forward_exits', 'lost_exits', 'observed_exits'],
    'kpi_pipeline': ['pipeline_id', 'as_of_date', 'scope_type', 'scope_id', 'funnel_step', 'open_opportunities', 'open_opportunities_unknown_amount', 'currency'],
    'kpi_scorecard_month_company': ['scorecard_id', 'period_start_date', 'kpi_code', 'numerator', 'denominator', 'business_days'],
    'kpi_scorecard_month_team': ['scorecard_id', 'period_start_date', 'team_id', 'kpi_code', 'numerator', 'denominator', 'business_days'],
    'kpi_scorecard_month_rep': ['scorecard_id', 'period_start_date', 'rep_id', 'kpi_code', 'numerator', 'denominator', 'business_days'],
    'kpi_scorecard_quarter_company': ['scorecard_id', 'period_start_date', 'kpi_code', 'numerator', 'denominator', 'business_days'],
    'kpi_scorecard_quarter_team': ['scorecard_id', 'period_start_date', 'team_id', 'kpi_code', 'numerator', 'denominator', 'business_days'],
    'kpi_scorecard_fiscal_year_company': ['scorecard_id', 'period_start_date', 'kpi_code', 'numerator', 'denominator', 'business_days'],
    'kpi_scorecard_fiscal_year_team': ['scorecard_id', 'period_start_date', 'team_id', 'kpi_code', 'numerator', 'denominator', 'business_days'],
    'kpi_handoff_month': ['handoff_id', 'period_grain', 'period_start_date', 'period_end_date', 'sdr_rep_id', 'ae_rep_id', 'sourced_by', 'opportunities_created', 'opportunities_accepted', 'won_deals', 'closed_deals', 'won_amount', 'currency', 'won_deals_with_cycle', 'sum_days_opportunity_to_won'],
    'kpi_cac_month': ['cac_id', 'period_grain', 'period_start_date', 'period_end_date', 'channel', 'agency_key', 'currency'],
    'kpi_agency_performance_month': ['agency_performance_id', 'period_grain', 'period_start_date', 'period_end_date', 'agency_key', 'is_outsourced', 'activities', 'calls', 'connected_calls', 'appointments_set', 'opportunities_created', 'won_deals', 'won_amount', 'has_fee_data', 'fee_amount', 'currency'],
    'kpi_funnel_conversion_month_cohort': ['funnel_conversion_id', 'period_grain', 'period_start_date', 'period_end_date', 'lead_source', 'channel', 'team_id', 'rep_id', 'conversion_step', 'numerator_count', 'denominator_count'],
    'kpi_funnel_conversion_month_period': ['funnel_conversion_id', 'period_grain', 'period_start_date', 'period_end_date', 'lead_source', 'channel', 'team_id', 'rep_id', 'conversion_step', 'numerator_count', 'denominator_count'],
} %}
{%- for model, columns in constrained.items() %}
{%- set model_loop = loop %}
{%- for column in columns %}
select '{{ model }}' as model_name, '{{ column }}' as column_name, count(*) as null_rows
from {{ ref(model) }}
where {{ column }} is null
having count(*) > 0
{%- if not (model_loop.last and loop.last) %}
union all
{%- endif %}
{%- endfor %}
{%- endfor %}
