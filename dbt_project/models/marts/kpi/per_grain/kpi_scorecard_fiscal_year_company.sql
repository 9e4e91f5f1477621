-- kpi_scorecard at one grain and scope, money in its own columns (macro scorecard_slice).
{{ scorecard_slice('fiscal_year', 'company') }}
