{#- Every landed Salesforce row that gives no canonical row, with its object, file, row and the
    reason: deleted records, rows a rule rejects and UserRole rows no kept user has. With the
    kept rows of int_salesforce__row_outcomes, every landed row is accounted for once:
    landed = kept + rejected. -#}
with

row_outcomes as (
    select * from {{ ref('int_salesforce__row_outcomes') }}
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
