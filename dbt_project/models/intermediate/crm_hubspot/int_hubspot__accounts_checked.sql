{#- Every company row with its canonical values and the reason it is rejected (null: kept). -#}
with

companies as (
    select * from {{ ref('stg_hubspot__company') }}
),

config as (
    select * from {{ ref('stg_hubspot__config') }}
),

custom_properties as (
    select * from {{ ref('stg_hubspot__custom_property_values') }}
    where config_key = 'corporate_number_property'
),

-- source.yml industry_map: Industry label -> canonical industry (by lookup key; unmapped: kept).
industry_map as (
    select
        source_system,
        {{ hubspot_key('entry_key') }} as industry_key,
        max(config_value) as mapped_industry
    from config
    where config_key = 'industry_map'
    group by source_system, {{ hubspot_key('entry_key') }}
),

-- Rule: a later row with the same Record ID supersedes the earlier one.
superseded as (
    select
        source_system,
        source_file,
        source_row,
        {{ hubspot_superseded_reason('company_id') }} as superseded_reason
    from companies
    where not is_deleted and company_id is not null
),

-- Company size band (従業員規模) of "Number of Employees": the band of the highest lower bound
-- (var company_size_bands) not above it; below the first
-- bound, the first band.
{%- set bands = var('company_size_bands') | sort(attribute='min', reverse=true) %}
banded as (
    select
        companies.*,
        case
            when companies.number_of_employees is null then null
            {%- for band in bands %}
                when companies.number_of_employees >= {{ band.min }} then '{{ band.label }}'
            {%- endfor %}
            else '{{ (var('company_size_bands') | sort(attribute='min') | first).label }}'
        end as employee_band,
        industry_map.mapped_industry,
        custom_properties.property_value as corporate_number,
        superseded.superseded_reason
    from companies
    left join industry_map
        on companies.source_system = industry_map.source_system
            and {{ hubspot_key('companies.industry') }} = industry_map.industry_key
    left join custom_properties
        on companies.source_system = custom_properties.source_system
            and companies.source_file = custom_properties.source_file
            and companies.source_row = custom_properties.source_row
    left join superseded
        on companies.source_system = superseded.source_system
            and companies.source_file = superseded.source_file
            and companies.source_row = superseded.source_row
),

checked as (
    select
        {{ crm_namespaced('source_system', 'company_id') }} as account_id,
        company_name as account_name,
        corporate_number,
        coalesce(mapped_industry, industry) as industry,
        employee_band,
        -- The size band is derived here from Number of Employees; employee_count stays empty.
        cast(null as {{ dbt.type_int() }}) as employee_count,
        state_region as prefecture,
        created_at,
        case
            when is_deleted
                then 'deleted in HubSpot (_fivetran_deleted = true in the synced table)'
            when superseded_reason is not null then superseded_reason
            when company_id is null then '''Record ID'' is empty'
            when unreadable_value_reason is not null then unreadable_value_reason
        end as rejection_reason,
        source_system,
        source_file,
        source_row
    from banded
)

select * from checked
