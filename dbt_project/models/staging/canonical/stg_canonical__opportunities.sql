with source as (
    select * from {{ source('canonical', 'opportunities') }}
),

deduplicated as (
    {{ deduplicate('source', 'opportunity_id', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        opportunity_id,
        account_id,
        owner_id,
        lead_id,
        sdr_id,
        -- Values that cannot be true become unknown here and are reported by int_value_defects:
        -- a date outside the plausible window, a negative amount; a won deal is closed.
        {{ plausible_date('created_at', 'event') }} as created_at,
        {{ plausible_date('close_date', 'plan') }} as close_date,
        {{ neutralised_text('opportunity_stage') }} as opportunity_stage,
        {{ neutralised_text('product') }} as product,
        {{ non_negative_value('amount') }} as amount,
        upper(currency) as currency,
        opportunity_type,
        is_closed or is_won as is_closed,
        is_won,
        {{ neutralised_text('lost_reason') }} as lost_reason,
        _loaded_at as loaded_at,
        -- When the nightly snapshot (snap_opportunities) sees this state: the as-of date, never
        -- the wall clock, so a night re-run on the same inputs gives the same stage history.
        cast({{ as_of_date() }} as {{ dbt.type_timestamp() }}) as snapshot_at
    from deduplicated
)

select * from final
