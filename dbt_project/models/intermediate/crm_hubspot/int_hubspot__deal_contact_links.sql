{#- The deal <-> contact associations, one row per associated (deal, contact) pair of one source, from the live rows
    (not deleted, with an id, not superseded) of the deals and contacts exports:

    - an association listed on either side counts for both (`Associated Contact IDs` of a deal,
      `Associated Deal IDs` of a contact);
    - a contact's deals are in the order: its own list, then the deals listing it (in deal row
      order); a deal's contacts: its own list, then the contacts listing it (in contact row
      order);
    - a contact is a lead when it has a "Became a Lead Date", a lifecycle stage of lead or later
      (lead, marketingqualifiedlead, salesqualifiedlead, opportunity, customer, evangelist) or an
      original source;
    - a contact's first deal is its earliest-created deal (a deal missing from the export, or
      without a Create Date, comes last; the contact's deal order breaks ties);
    - a deal's lead is its first associated contact that is a lead whose first deal is this
      deal, else its first associated contact that is a lead. -#}
with

deals as (
    select * from {{ ref('stg_hubspot__deal') }}
),

contacts as (
    select * from {{ ref('stg_hubspot__contact') }}
),

deal_superseded as (
    select
        source_system,
        source_file,
        source_row,
        {{ hubspot_superseded_reason('deal_id') }} as superseded_reason
    from deals
    where not is_deleted and deal_id is not null
),

contact_superseded as (
    select
        source_system,
        source_file,
        source_row,
        {{ hubspot_superseded_reason('contact_id') }} as superseded_reason
    from contacts
    where not is_deleted and contact_id is not null
),

live_deals as (
    select
        deals.source_system,
        deals.deal_id,
        deals.created_at,
        deals.associated_contact_ids,
        row_number() over (
            partition by deals.source_system order by deals.source_file, deals.source_row
        ) as deal_order
    from deals
    inner join deal_superseded
        on deals.source_system = deal_superseded.source_system
            and deals.source_file = deal_superseded.source_file
            and deals.source_row = deal_superseded.source_row
    where deal_superseded.superseded_reason is null
),

live_contacts as (
    select
        contacts.source_system,
        contacts.contact_id,
        contacts.associated_deal_ids,
        contacts.became_lead_at is not null
        or {{ hubspot_key('contacts.lifecycle_stage') }} in (
            'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer',
            'evangelist'
        )
        or contacts.original_source is not null as is_lead,
        row_number() over (
            partition by contacts.source_system
            order by contacts.source_file, contacts.source_row
        ) as contact_order
    from contacts
    inner join contact_superseded
        on contacts.source_system = contact_superseded.source_system
            and contacts.source_file = contact_superseded.source_file
            and contacts.source_row = contact_superseded.source_row
    where contact_superseded.superseded_reason is null
),

-- The ids of each association cell, one row each with its position in the cell.
deal_listed as (
    select
        source_system,
        deal_id,
        deal_order,
        {{ hubspot_unnest_ids(hubspot_id_list('associated_contact_ids'), 'listed_contact') }}
    from live_deals
),

contact_listed as (
    select
        source_system,
        contact_id,
        contact_order,
        {{ hubspot_unnest_ids(hubspot_id_list('associated_deal_ids'), 'listed_deal') }}
    from live_contacts
),

-- Every (deal, contact) pair with its sort key on each side. Among a deal's contacts: those
-- the deal lists (by position), then those listing the deal (by contact row order). Among a
-- contact's deals: those the contact lists (by position), then those listing the contact (by
-- deal row order and position).
pairs as (
    select
        source_system,
        deal_id,
        listed_contact_id as contact_id,
        cast(listed_contact_position as {{ dbt.type_bigint() }}) as deal_side_key,
        1000000000 + deal_order * 100000 + listed_contact_position as contact_side_key
    from deal_listed
    union all
    select
        source_system,
        listed_deal_id as deal_id,
        contact_id,
        1000000000 + contact_order as deal_side_key,
        cast(listed_deal_position as {{ dbt.type_bigint() }}) as contact_side_key
    from contact_listed
),

pair_keys as (
    select
        source_system,
        deal_id,
        contact_id,
        min(deal_side_key) as deal_side_key,
        min(contact_side_key) as contact_side_key
    from pairs
    group by source_system, deal_id, contact_id
),

ranked as (
    select
        pair_keys.source_system,
        pair_keys.deal_id,
        pair_keys.contact_id,
        row_number() over (
            partition by pair_keys.source_system, pair_keys.contact_id
            order by pair_keys.contact_side_key
        ) as deal_position_in_contact,
        row_number() over (
            partition by pair_keys.source_system, pair_keys.deal_id
            order by pair_keys.deal_side_key
        ) as contact_position_in_deal,
        live_deals.created_at as deal_created_at,
        coalesce(live_contacts.is_lead, false) as is_lead
    from pair_keys
    left join live_deals
        on pair_keys.source_system = live_deals.source_system
            and pair_keys.deal_id = live_deals.deal_id
    left join live_contacts
        on pair_keys.source_system = live_contacts.source_system
            and pair_keys.contact_id = live_contacts.contact_id
),

first_deals as (
    select
        *,
        row_number() over (
            partition by source_system, contact_id
            order by
                case when deal_created_at is null then 1 else 0 end,
                deal_created_at,
                deal_position_in_contact
        ) = 1 as is_first_deal_of_contact
    from ranked
),

lead_choice as (
    select
        *,
        is_lead and row_number() over (
            partition by source_system, deal_id
            order by
                case when is_lead then 0 else 1 end,
                case when is_first_deal_of_contact then 0 else 1 end,
                contact_position_in_deal
        ) = 1 as is_lead_of_deal
    from first_deals
)

select * from lead_choice
