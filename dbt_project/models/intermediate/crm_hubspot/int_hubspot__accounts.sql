{#- HubSpot companies in the canonical accounts entity: the kept rows of
    int_hubspot__accounts_checked. -#}
with

checked as (
    select * from {{ ref('int_hubspot__accounts_checked') }}
),

kept as (
    select
        account_id,
        account_name,
        corporate_number,
        industry,
        employee_band,
        employee_count,
        prefecture,
        created_at,
        source_system,
        source_file,
        source_row
    from checked
    where rejection_reason is null
)

select * from kept
