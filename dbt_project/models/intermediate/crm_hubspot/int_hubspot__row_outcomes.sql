{#- What became of every landed HubSpot row, one row each: the canonical entity it feeds or the
    reason it is rejected. A contact row that became a lead feeds leads too, and a deal row
    feeds opportunity_stage_history too (with the lineage of that row); they are counted once,
    under contacts and opportunities. landed = kept + rejected, per file;
    int_hubspot__rejected_rows lists the rejected ones. -#}
with

row_outcomes as (
    select
        'owner' as object_name,
        'users' as canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason
    from {{ ref('int_hubspot__users_checked') }}
    union all
    select
        'company' as object_name,
        'accounts' as canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason
    from {{ ref('int_hubspot__accounts_checked') }}
    union all
    select
        'contact' as object_name,
        'contacts' as canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason
    from {{ ref('int_hubspot__contacts_checked') }}
    union all
    select
        'deal' as object_name,
        'opportunities' as canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason
    from {{ ref('int_hubspot__opportunities_checked') }}
    union all
    select
        object_name,
        'activities' as canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason
    from {{ ref('int_hubspot__activities_checked') }}
),

final as (
    select
        object_name,
        canonical_entity,
        source_system,
        source_file,
        source_row,
        rejection_reason is null as is_kept,
        rejection_reason
    from row_outcomes
)

select * from final
