-- noqa: disable=LT02,LT05
-- (the Jinja loops over grains and scopes below confuse the layout rules)
-- The scorecard (KPI管理表) in long format: period × scope × KPI → numerator, denominator,
-- value, target (予算), attainment (達成率), pace against elapsed Japanese business days,
-- landing forecast (着地見込み) with its method, gap and status. One row per KPI of
-- seed kpi_definitions for every period (day, ISO week, month, fiscal quarter, fiscal year)
-- that has started by the as-of date and every scope with activity or a target: company, team
-- (the rep's team on the day of each fact), rep, role, motion, agency, lead source, channel,
-- industry, company size and product. Everything is computed for the as-of date (dbt var
-- as_of_date), never "today".
{%- set tolerance = var('pace_tolerance') %}
{#- KPIs whose value is numerator / denominator (a share, money per deal, activities per rep-day) -#}
{%- set quotient_units = "('rate', 'amount_rate', 'ratio')" %}
{%- set scorecard_key = ['period_grain', 'period_start_date', 'scope_type', 'scope_id', 'kpi_code'] %}
{%- set decimal_sum = 'decimal(38, 9)' %}
-- Numerators and denominators fixed to 9 decimals once (as exact_sum does), summed as decimals.
with daily as (
    select
        fact_date,
        kpi_code,
        team_id,
        rep_id,
        rep_role,
        sales_motion,
        agency_key,
        lead_source,
        channel,
        industry,
        company_size,
        product,
        cast(numerator as {{ decimal_sum }}) as numerator,
        cast(denominator as {{ decimal_sum }}) as denominator
    from {{ ref('fct_kpi_daily') }}
),

team_on_as_of as (
    select * from {{ ref('int_rep_team_periods') }}
    where
        valid_from_date <= {{ as_of_date() }}
        and (valid_to_date is null or valid_to_date > {{ as_of_date() }})
),

team_ancestors as (
    select * from {{ ref('int_team_ancestors') }}
),

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

targets as (
    select * from {{ ref('stg_canonical__targets') }}
    where scenario = '{{ var("target_scenario") }}'
),

pipeline as (
    select * from {{ ref('int_open_pipeline_as_of') }}
),

day_periods as (
    select * from {{ ref('int_date_periods') }}
),

periods as (
    select
        period_grain,
        period_start_date,
        max(period_end_date) as period_end_date,
        sum(case when is_business_day then 1 else 0 end) as business_days,
        sum(
            case when is_business_day and date_day <= {{ as_of_date() }} then 1 else 0 end
        ) as business_days_elapsed
    from day_periods
    group by period_grain, period_start_date
),

-- The rep-level scopes (company, team, rep, role, motion, agency, org unit) read the days summed
-- per rep first, and lead source and channel the days summed per lead source: fewer rows than
-- the daily fact. Decimal sums, so the order of summing changes nothing.
rep_days as (
    select
        fact_date,
        kpi_code,
        team_id,
        rep_id,
        rep_role,
        sales_motion,
        agency_key,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from daily
    group by fact_date, kpi_code, team_id, rep_id, rep_role, sales_motion, agency_key
),

source_days as (
    select
        fact_date,
        kpi_code,
        lead_source,
        channel,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from daily
    group by fact_date, kpi_code, lead_source, channel
),

-- Each scope per day, so the roll-up to five grains reads few rows. Segment (industry, company
-- size) and product scopes leave out facts without an account or product.
daily_scoped as (
    {%- set scopes = {
        'company': ['rep_days', "'company'"],
        'team': ['rep_days', 'team_id'],
        'rep': ['rep_days', 'rep_id'],
        'role': ['rep_days', 'rep_role'],
        'motion': ['rep_days', 'sales_motion'],
        'agency': ['rep_days', 'agency_key'],
        'lead_source': ['source_days', 'lead_source'],
        'channel': ['source_days', 'channel'],
        'industry': ['daily', 'industry'],
        'company_size': ['daily', 'company_size'],
        'product': ['daily', 'product'],
    } %}
    {% for scope_type, source in scopes.items() %}
    {%- set scope_column = source[0] ~ '.' ~ source[1] if not source[1].startswith("'") else source[1] %}
    select
        {{ source[0] }}.fact_date,
        {{ source[0] }}.kpi_code,
        cast(sum({{ source[0] }}.numerator) as {{ type_double() }}) as numerator,
        cast(sum({{ source[0] }}.denominator) as {{ type_double() }}) as denominator,
        '{{ scope_type }}' as scope_type,
        {{ scope_column }} as scope_id
    from {{ source[0] }}
    {% if scope_type in ('lead_source', 'channel', 'industry', 'company_size', 'product') -%}
    where {{ scope_column }} <> 'n/a'
    {%- endif %}
    group by {{ source[0] }}.fact_date, {{ source[0] }}.kpi_code
        {%- if not source[1].startswith("'") %}, {{ scope_column }}{% endif %}
    union all
    {% endfor %}
    -- Every unit above the rep's team (manager, office, region...: the optional teams export).
    select
        rep_days.fact_date,
        rep_days.kpi_code,
        cast(sum(rep_days.numerator) as {{ type_double() }}) as numerator,
        cast(sum(rep_days.denominator) as {{ type_double() }}) as denominator,
        'org_unit' as scope_type,
        team_ancestors.ancestor_team_id as scope_id
    from rep_days
    inner join team_ancestors
        on rep_days.team_id = team_ancestors.team_id
    group by rep_days.fact_date, rep_days.kpi_code, team_ancestors.ancestor_team_id
),

-- The five grains rolled up from the day rows, not by joining every day row to all five: the
-- day grain is the day rows, week and month sum them, fiscal quarter and fiscal year sum the
-- months (whole months: fiscal periods start on the 1st). Sums stay decimal(38, 9) until the
-- end, so they equal exact_sum over the days.
scoped_days as (
    select
        fact_date,
        scope_type,
        scope_id,
        kpi_code,
        cast(numerator as {{ decimal_sum }}) as numerator,
        cast(denominator as {{ decimal_sum }}) as denominator
    from daily_scoped
),

scoped_weeks_months as (
    select
        day_periods.period_grain,
        day_periods.period_start_date,
        scoped_days.scope_type,
        scoped_days.scope_id,
        scoped_days.kpi_code,
        sum(scoped_days.numerator) as numerator,
        sum(scoped_days.denominator) as denominator
    from scoped_days
    inner join day_periods
        on scoped_days.fact_date = day_periods.date_day
    where day_periods.period_grain in ('week', 'month')
    group by 1, 2, 3, 4, 5
),

month_periods as (
    select distinct
        months.period_start_date as month_start_date,
        fiscal.period_grain,
        fiscal.period_start_date
    from day_periods as months
    inner join day_periods as fiscal
        on months.date_day = fiscal.date_day
    where months.period_grain = 'month' and fiscal.period_grain in ('quarter', 'fiscal_year')
),

scoped_fiscal as (
    select
        month_periods.period_grain,
        month_periods.period_start_date,
        scoped_weeks_months.scope_type,
        scoped_weeks_months.scope_id,
        scoped_weeks_months.kpi_code,
        sum(scoped_weeks_months.numerator) as numerator,
        sum(scoped_weeks_months.denominator) as denominator
    from scoped_weeks_months
    inner join month_periods
        on scoped_weeks_months.period_start_date = month_periods.month_start_date
    where scoped_weeks_months.period_grain = 'month'
    group by 1, 2, 3, 4, 5
),

actuals as (
    select
        'day' as period_grain,
        fact_date as period_start_date,
        scope_type,
        scope_id,
        kpi_code,
        cast(numerator as {{ type_double() }}) as numerator,
        cast(denominator as {{ type_double() }}) as denominator
    from scoped_days
    union all
    select
        period_grain,
        period_start_date,
        scope_type,
        scope_id,
        kpi_code,
        cast(numerator as {{ type_double() }}) as numerator,
        cast(denominator as {{ type_double() }}) as denominator
    from scoped_weeks_months
    union all
    select
        period_grain,
        period_start_date,
        scope_type,
        scope_id,
        kpi_code,
        cast(numerator as {{ type_double() }}) as numerator,
        cast(denominator as {{ type_double() }}) as denominator
    from scoped_fiscal
),

pipeline_scoped as (
    select
        pipeline.close_date,
        pipeline.weighted_amount,
        'company' as scope_type,
        'company' as scope_id
    from pipeline
    union all
    select
        pipeline.close_date,
        pipeline.weighted_amount,
        'team' as scope_type,
        coalesce(team_on_as_of.team_id, 'unassigned') as scope_id
    from pipeline
    left join team_on_as_of
        on pipeline.rep_id = team_on_as_of.rep_id
    union all
    select
        pipeline.close_date,
        pipeline.weighted_amount,
        'rep' as scope_type,
        pipeline.rep_id as scope_id
    from pipeline
),

-- Weighted open pipeline expected to close in the rest of each period (after the as-of date).
remaining_pipeline as (
    select
        periods.period_grain,
        periods.period_start_date,
        pipeline_scoped.scope_type,
        pipeline_scoped.scope_id,
        'won_amount' as kpi_code,
        {{ exact_sum('pipeline_scoped.weighted_amount') }} as weighted_pipeline_amount
    from pipeline_scoped
    inner join periods
        on
            pipeline_scoped.close_date > {{ as_of_date() }}
            and pipeline_scoped.close_date <= periods.period_end_date
            and periods.period_start_date <= {{ as_of_date() }}
            and periods.period_end_date > {{ as_of_date() }}
            and pipeline_scoped.close_date >= periods.period_start_date
    group by 1, 2, 3, 4, 5
),

-- Every key with an actual (actuals are unique per key), then the keys that have only a target.
keyed_actuals as (
    select
        period_grain,
        period_start_date,
        scope_type,
        scope_id,
        kpi_code,
        numerator,
        denominator
    from actuals
    union all
    select distinct
        targets.period_grain,
        targets.period_start_date,
        targets.scope_type,
        targets.scope_id,
        targets.kpi_code,
        0 as numerator,
        0 as denominator
    from targets
    where not exists (
        select 1 from actuals
        where {{ join_on('targets', 'actuals', scorecard_key) }}
    )
),

joined as (
    select
        key_rows.period_grain,
        key_rows.period_start_date,
        periods.period_end_date,
        key_rows.scope_type,
        key_rows.scope_id,
        key_rows.kpi_code,
        definitions.kpi_name_ja,
        definitions.unit,
        definitions.direction,
        definitions.forecast_method,
        -- A sum of only null values (e.g. amounts with no exchange rate) counts as zero.
        coalesce(key_rows.numerator, 0) as numerator,
        coalesce(key_rows.denominator, 0) as denominator,
        targets.target_value,
        periods.business_days,
        periods.business_days_elapsed,
        coalesce(remaining_pipeline.weighted_pipeline_amount, 0) as weighted_pipeline_amount
    from keyed_actuals as key_rows
    inner join definitions
        on key_rows.kpi_code = definitions.kpi_code
    inner join periods
        on
            key_rows.period_grain = periods.period_grain
            and key_rows.period_start_date = periods.period_start_date
    left join targets
        on {{ join_on('key_rows', 'targets', scorecard_key) }}
    left join remaining_pipeline
        on {{ join_on('key_rows', 'remaining_pipeline', scorecard_key) }}
    where key_rows.period_start_date <= {{ as_of_date() }}
),

valued as (
    select
        joined.*,
        case
            when joined.unit in {{ quotient_units }}
                then {{ safe_divide('joined.numerator', 'joined.denominator') }}
            else joined.numerator
        end as kpi_value,
        {{ safe_divide('joined.business_days_elapsed', 'joined.business_days') }}
            as elapsed_share
    from joined
),

forecast as (
    select
        valued.*,
        case
            when valued.unit in {{ quotient_units }} then valued.kpi_value
            when valued.business_days_elapsed >= valued.business_days then valued.kpi_value
            -- Defined from the first day: the pipeline needs no elapsed day.
            when valued.forecast_method = 'weighted_pipeline'
                then valued.kpi_value + valued.weighted_pipeline_amount
            -- Run rate = actual / elapsed business days; none (null) before the first one.
            when valued.business_days_elapsed > 0
                then valued.kpi_value
                + valued.kpi_value / valued.business_days_elapsed
                * (valued.business_days - valued.business_days_elapsed)
        end as landing_forecast,
        case
            when valued.unit in {{ quotient_units }} then valued.target_value
            else valued.target_value * valued.elapsed_share
        end as expected_to_date
    from valued
),

final as (
    select
        {{ dbt.hash(
            "forecast.period_grain || '|' || cast(forecast.period_start_date as "
            ~ dbt.type_string() ~ ") || '|' || forecast.scope_type || '|' || forecast.scope_id"
            ~ " || '|' || forecast.kpi_code"
        ) }} as scorecard_id,
        forecast.period_grain,
        forecast.period_start_date,
        forecast.period_end_date,
        {{ as_of_date() }} as as_of_date,
        forecast.scope_type,
        forecast.scope_id,
        forecast.kpi_code,
        forecast.kpi_name_ja,
        forecast.unit,
        forecast.direction,
        cast(forecast.numerator as {{ type_double() }}) as numerator,
        cast(forecast.denominator as {{ type_double() }}) as denominator,
        cast(forecast.kpi_value as {{ type_double() }}) as kpi_value,
        cast(forecast.target_value as {{ type_double() }}) as target_value,
        {{ safe_divide('forecast.kpi_value', 'forecast.target_value') }} as attainment,
        cast(forecast.business_days as integer) as business_days,
        cast(forecast.business_days_elapsed as integer) as business_days_elapsed,
        cast(forecast.elapsed_share as {{ type_double() }}) as elapsed_share,
        cast(forecast.expected_to_date as {{ type_double() }}) as expected_to_date,
        {{ safe_divide('forecast.kpi_value', 'forecast.expected_to_date') }} as pace_ratio,
        cast(forecast.landing_forecast as {{ type_double() }}) as landing_forecast,
        case
            when forecast.unit in {{ quotient_units }} then 'current_value'
            when forecast.business_days_elapsed >= forecast.business_days then 'actual'
            -- No business day of the period has passed yet (e.g. as of a Saturday the 1st):
            -- there is no run rate, so no forecast (null) and no status.
            when forecast.forecast_method = 'run_rate' and forecast.business_days_elapsed = 0
                then 'no_elapsed_business_day'
            else forecast.forecast_method
        end as forecast_method,
        cast(forecast.target_value - forecast.landing_forecast as {{ type_double() }}) as gap,
        -- On pace within ± var pace_tolerance of the target, inclusive at both ends (macro
        -- pace_status); ahead / behind beyond it, direction-aware.
        {{ pace_status(
            'forecast.landing_forecast', 'forecast.target_value', 'forecast.direction', tolerance
        ) }} as status
    from forecast
)

select * from final
