{#- HubSpot leads in the canonical leads entity: the kept contact rows of
    int_hubspot__contacts_checked that became a lead (lead_id = contact_id). -#}
with

checked as (
    select * from {{ ref('int_hubspot__contacts_checked') }}
),

kept as (
    select
        contact_id as lead_id,
        lead_created_at as created_at,
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
    where rejection_reason is null and is_lead
)

select * from kept
