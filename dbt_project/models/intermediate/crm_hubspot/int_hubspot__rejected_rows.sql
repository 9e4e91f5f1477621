{#- Every landed HubSpot row that gives no canonical row, with its object, file, row and the
    reason: rows a sync marks deleted, rows superseded by a later row with the same Record ID,
    and rows a rule rejects. With the kept rows of int_hubspot__row_outcomes, every landed row is
    accounted for once: landed = kept + rejected. -#}
with

row_outcomes as (
    select * from {{ ref('int_hubspot__row_outcomes') }}
),

rejected as (
    select
        object_name,
        source_system,
        source_file,
        source_row,
        rejection_reason
    from row_outcomes
    where not is_kept
)

select * from rejected
