-- kpi_cac at the month grain: each month's spend and new customers once (macro mart_slice).
{{ mart_slice('kpi_cac', "period_grain = 'month'") }}
