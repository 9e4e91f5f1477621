-- kpi_funnel_conversion at the month grain, cohort basis (macro mart_slice).
{{ mart_slice('kpi_funnel_conversion', "period_grain = 'month' and analysis_basis = 'cohort'") }}
