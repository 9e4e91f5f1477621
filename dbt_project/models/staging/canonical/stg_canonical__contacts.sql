-- Personal data (name, e-mail, phone) stays here: no mart selects these columns.
with source as (
    select * from {{ source('canonical', 'contacts') }}
),

deduplicated as (
    {{ deduplicate('source', 'contact_id', '_source_file desc, _row_number desc') }}
),

final as (
    select
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        contact_id,
        account_id,
        full_name as contact_name,
        lower(email) as contact_email,
        phone as contact_phone,
        title as contact_title,
        created_at,
        _loaded_at as loaded_at
    from deduplicated
)

select * from final
