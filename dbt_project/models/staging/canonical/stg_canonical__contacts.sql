-- Personal data (name, e-mail, phone) stays here: no mart selects these columns.
with source as (
    select * from {{ source('canonical', 'contacts') }}
),

cleaned as (
    {{ canonical_contacts('source') }}
)

select * from cleaned
