-- kpi_handoff at one grain: each opportunity once (macro mart_slice).
{{ mart_slice('kpi_handoff', "period_grain = 'month'") }}
