-- Lead sources missing from the seed lead_source_channels: add them there so CAC by channel
-- is complete. A warning, not an error: the funnel by lead source is still right.
{{ config(severity='warn') }}
select lead_source from {{ ref('dim_lead_sources') }}
where not is_mapped
