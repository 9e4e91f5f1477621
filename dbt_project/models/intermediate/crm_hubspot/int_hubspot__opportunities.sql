{#- HubSpot deals in the canonical opportunities entity: the kept rows of
    int_hubspot__opportunities_checked. -#}
with

checked as (
    select * from {{ ref('int_hubspot__opportunities_checked') }}
),

kept as (
    select
        opportunity_id,
        account_id,
        owner_id,
        lead_id,
        sdr_id,
        created_at,
        close_date,
        opportunity_stage,
        amount,
        product,
        currency,
        opportunity_type,
        is_closed,
        is_won,
        lost_reason,
        source_system,
        source_file,
        source_row
    from checked
    where rejection_reason is null
)

select * from kept
