{#- Every Account row with its canonical values and the reason it is rejected (null: kept). -#}
with

accounts as (
    select * from {{ ref('stg_salesforce__account') }}
),

config as (
    select * from {{ ref('stg_salesforce__config') }}
),

custom_fields as (
    select * from {{ ref('stg_salesforce__custom_field_values') }}
    where config_key = 'corporate_number_field'
),

-- source.yml industry_map: Industry picklist value -> canonical industry (unmapped: kept).
industry_map as (
    select
        source_system,
        entry_key as industry,
        config_value as mapped_industry
    from config
    where config_key = 'industry_map'
),

-- Company size band (従業員規模) of NumberOfEmployees: the band of the highest lower bound
-- (var company_size_bands) not above it; below the first bound, the first band.
{%- set bands = var('company_size_bands') | sort(attribute='min', reverse=true) %}
banded as (
    select
        accounts.*,
        case
            when accounts.number_of_employees is null then null
            {%- for band in bands %}
                when accounts.number_of_employees >= {{ band.min }} then '{{ band.label }}'
            {%- endfor %}
            else '{{ (var('company_size_bands') | sort(attribute='min') | first).label }}'
        end as employee_band,
        industry_map.mapped_industry,
        custom_fields.field_value as corporate_number
    from accounts
    left join industry_map
        on accounts.source_system = industry_map.source_system
            and coalesce(accounts.industry, '') = industry_map.industry
    left join custom_fields
        on accounts.source_system = custom_fields.source_system
            and accounts.source_file = custom_fields.source_file
            and accounts.source_row = custom_fields.source_row
),

checked as (
    select
        {{ crm_namespaced('source_system', 'account_id') }} as account_id,
        account_name,
        corporate_number,
        coalesce(mapped_industry, industry) as industry,
        employee_band,
        -- The size band is derived here from NumberOfEmployees; employee_count stays empty.
        cast(null as {{ dbt.type_int() }}) as employee_count,
        billing_state as prefecture,
        created_at,
        case
            when is_deleted then 'deleted in Salesforce (IsDeleted or _fivetran_deleted = true)'
            when unreadable_value_reason is not null then unreadable_value_reason
            when account_name is null then 'Name is empty (account_name is required)'
        end as rejection_reason,
        source_system,
        source_file,
        source_row
    from banded
)

select * from checked
