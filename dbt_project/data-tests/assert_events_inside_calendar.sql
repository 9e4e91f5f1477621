{{ config(severity="error", store_failures=true, meta={"dagster": {"ref": {"name": "dim_date"}}}) }}
-- Every dated event maps to a calendar day (core.dim_date). The calendar is derived from the
-- data unless dbt vars calendar_start_date / calendar_end_date fix its bounds; then an event
-- outside them fails the run here, with the record, file and row: widen the bounds (or unset
-- them) or correct the date in the export.
with events as (
    {{ calendar_event_dates(with_lineage=true) }}
),

calendar as (
    select
        min(date_day) as first_day,
        max(date_day) as last_day
    from {{ ref('dim_date') }}
)

select
    events.entity,
    events.record_id,
    events.source_file,
    events.source_row,
    events.event_column,
    events.event_date,
    calendar.first_day as calendar_start_date,
    calendar.last_day as calendar_end_date
from events
cross join calendar
where events.event_date < calendar.first_day or events.event_date > calendar.last_day
