-- kpi_agency_performance at the month grain: each event and fee once (macro mart_slice).
{{ mart_slice('kpi_agency_performance', "period_grain = 'month'") }}
