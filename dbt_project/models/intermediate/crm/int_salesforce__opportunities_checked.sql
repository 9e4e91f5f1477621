{#- Every Opportunity row with its canonical values and the reason it is rejected (null: kept).
    The Salesforce opportunity rules (docs: salesforce_rules). -#}
with

opportunities as (
    select * from {{ ref('stg_salesforce__opportunity') }}
),

leads as (
    select * from {{ ref('stg_salesforce__lead') }}
    where not is_deleted
),

config as (
    select * from {{ ref('stg_salesforce__config') }}
),

custom_fields as (
    select * from {{ ref('stg_salesforce__custom_field_values') }}
    where config_key = 'lost_reason_field'
),

-- The lead an opportunity came from: the live lead whose ConvertedOpportunityId names it (the
-- lead side of the conversion link); the earliest converted (ConvertedDate, then CreatedDate)
-- when several leads were converted into one opportunity.
converted_leads as (
    select
        source_system,
        converted_opportunity_id as opportunity_id,
        lead_id,
        row_number() over (
            partition by source_system, converted_opportunity_id
            order by converted_date nulls first, created_at nulls first, source_row
        ) as conversion_order
    from leads
    where converted_opportunity_id is not null
),

lead_of_opportunity as (
    select
        source_system,
        opportunity_id,
        lead_id
    from converted_leads
    where conversion_order = 1
),

-- Opportunity.Type -> new|expansion|renewal: the defaults (DEFAULT_OPPORTUNITY_TYPE_MAP; an
-- empty Type is new), overridden entry by entry by source.yml opportunity_type_map.
default_opportunity_type_map as (
    select
        '' as opportunity_type,
        'new' as mapped_opportunity_type
    union all
    select
        'New Business' as opportunity_type,
        'new' as mapped_opportunity_type
    union all
    select
        'New Customer' as opportunity_type,
        'new' as mapped_opportunity_type
    union all
    select
        'Existing Customer - Upgrade' as opportunity_type,
        'expansion' as mapped_opportunity_type
    union all
    select
        'Existing Customer - Replacement' as opportunity_type,
        'renewal' as mapped_opportunity_type
    union all
    select
        'Renewal' as opportunity_type,
        'renewal' as mapped_opportunity_type
),

configured_opportunity_type_map as (
    select
        source_system,
        entry_key as opportunity_type,
        config_value as mapped_opportunity_type
    from config
    where config_key = 'opportunity_type_map'
),

-- source.yml corporate_currency (default JPY): the currency when there is no CurrencyIsoCode.
corporate_currency as (
    select
        source_system,
        max(config_value) as corporate_currency
    from config
    where config_key = 'corporate_currency'
    group by source_system
),

mapped as (
    select
        opportunities.*,
        coalesce(
            configured_opportunity_type_map.mapped_opportunity_type,
            default_opportunity_type_map.mapped_opportunity_type
        ) as mapped_opportunity_type,
        coalesce(corporate_currency.corporate_currency, 'JPY') as corporate_currency,
        lead_of_opportunity.lead_id as converted_lead_id,
        custom_fields.field_value as lost_reason
    from opportunities
    left join configured_opportunity_type_map
        on opportunities.source_system = configured_opportunity_type_map.source_system
            and coalesce(opportunities.opportunity_type, '')
            = configured_opportunity_type_map.opportunity_type
    left join default_opportunity_type_map
        on coalesce(opportunities.opportunity_type, '')
            = default_opportunity_type_map.opportunity_type
    left join corporate_currency
        on opportunities.source_system = corporate_currency.source_system
    left join lead_of_opportunity
        on opportunities.source_system = lead_of_opportunity.source_system
            and opportunities.opportunity_id = lead_of_opportunity.opportunity_id
    left join custom_fields
        on opportunities.source_system = custom_fields.source_system
            and opportunities.source_file = custom_fields.source_file
            and opportunities.source_row = custom_fields.source_row
),

-- A value that cannot be read rejects the row. Required: AccountId, OwnerId, CreatedDate,
-- StageName, IsClosed, IsWon; a Type missing from the type map rejects the row.
checked as (
    select
        {{ crm_namespaced('source_system', 'opportunity_id') }} as opportunity_id,
        {{ crm_namespaced('source_system', 'account_id') }} as account_id,
        {{ crm_namespaced('source_system', 'owner_id') }} as owner_id,
        {{ crm_namespaced('source_system', 'converted_lead_id') }} as lead_id,
        cast(null as {{ dbt.type_string() }}) as sdr_id,
        created_at,
        close_date,
        opportunity_stage,
        amount,
        cast(null as {{ dbt.type_string() }}) as product,
        coalesce(currency, corporate_currency) as currency,
        mapped_opportunity_type as opportunity_type,
        is_closed,
        is_won,
        lost_reason,
        case
            when is_deleted then 'deleted in Salesforce (IsDeleted or _fivetran_deleted = true)'
            when unreadable_value_reason is not null then unreadable_value_reason
            when account_id is null then 'AccountId is empty (account_id is required)'
            when owner_id is null then 'OwnerId is empty (owner_id is required)'
            when created_at is null then 'CreatedDate is empty (created_at is required)'
            when opportunity_stage is null
                then 'StageName is empty (opportunity_stage is required)'
            when mapped_opportunity_type is null
                then 'Type ''' || opportunity_type
                    || ''' is not in source.yml opportunity_type_map'
            when mapped_opportunity_type not in ('new', 'expansion', 'renewal')
                then 'Type ''' || coalesce(opportunity_type, '') || ''' maps to '''
                    || mapped_opportunity_type || ''' in source.yml opportunity_type_map, not '
                    || 'one of new, expansion, renewal'
            when is_closed is null then 'IsClosed is empty (is_closed is required)'
            when is_won is null then 'IsWon is empty (is_won is required)'
        end as rejection_reason,
        source_system,
        source_file,
        source_row
    from mapped
)

select * from checked
