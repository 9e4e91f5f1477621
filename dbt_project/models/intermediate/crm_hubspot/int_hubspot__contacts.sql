{#- HubSpot contacts in the canonical contacts entity: the kept rows of
    int_hubspot__contacts_checked. -#}
with

checked as (
    select * from {{ ref('int_hubspot__contacts_checked') }}
),

kept as (
    select
        contact_id,
        account_id,
        full_name,
        email,
        phone,
        title,
        created_at,
        source_system,
        source_file,
        source_row
    from checked
    where rejection_reason is null
)

select * from kept
