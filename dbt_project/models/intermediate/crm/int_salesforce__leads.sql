{#- Salesforce leads in the canonical leads entity: the kept rows of
    int_salesforce__leads_checked. -#}
with

checked as (
    select * from {{ ref('int_salesforce__leads_checked') }}
),

kept as (
    select
        lead_id,
        created_at,
        lead_source,
        lead_status,
        owner_id,
        agency_id,
        account_id,
        contact_id,
        converted_at,
        converted_opportunity_id,
        source_system,
        source_file,
        source_row
    from checked
    where rejection_reason is null
)

select * from kept
