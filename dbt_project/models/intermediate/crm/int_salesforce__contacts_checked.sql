{#- Every Contact row with its canonical values and the reason it is rejected (null: kept). -#}
with

contacts as (
    select * from {{ ref('stg_salesforce__contact') }}
),

config as (
    select * from {{ ref('stg_salesforce__config') }}
),

-- source.yml name_order: how LastName/FirstName form a name when there is no Name.
name_order as (
    select
        source_system,
        max(config_value) as name_order
    from config
    where config_key = 'name_order'
    group by source_system
),

checked as (
    select
        {{ crm_namespaced('contacts.source_system', 'contacts.contact_id') }} as contact_id,
        {{ crm_namespaced('contacts.source_system', 'contacts.account_id') }} as account_id,
        coalesce(
            contacts.contact_name,
            nullif(trim(
                case
                    when name_order.name_order = 'first_last'
                        then coalesce(contacts.first_name, '') || ' '
                            || coalesce(contacts.last_name, '')
                    else coalesce(contacts.last_name, '') || ' '
                        || coalesce(contacts.first_name, '')
                end
            ), '')
        ) as full_name,
        contacts.contact_email as email,
        -- Phone, else MobilePhone.
        coalesce(contacts.phone, contacts.mobile_phone) as phone,
        contacts.title,
        contacts.created_at,
        case
            when contacts.is_deleted
                then 'deleted in Salesforce (IsDeleted or _fivetran_deleted = true)'
            when contacts.unreadable_value_reason is not null
                then contacts.unreadable_value_reason
        end as rejection_reason,
        contacts.source_system,
        contacts.source_file,
        contacts.source_row
    from contacts
    left join name_order
        on contacts.source_system = name_order.source_system
)

select * from checked
