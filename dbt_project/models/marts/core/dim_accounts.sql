-- Customer and prospect companies, with their acquisition dates.
with accounts as (
    select * from {{ ref('int_canonical__accounts') }}
),

account_keys as (
    select * from {{ ref('int_account_keys') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_enriched') }}
),

mrr as (
    select * from {{ ref('int_account_mrr_monthly') }}
),

new_customers as (
    select * from {{ ref('int_new_customers') }}
),

first_won as (
    select
        account_id,
        min(won_date) as first_won_date
    from opportunities
    where is_won
    group by account_id
),

first_mrr as (
    select
        account_id,
        min(month_start_date) as acquisition_month_start_date
    from mrr
    where mrr_amount > 0
    group by account_id
),

final as (
    select
        accounts.account_id,
        accounts.source_system,
        accounts.account_name,
        accounts.corporate_number,
        accounts.industry,
        accounts.employee_band,
        accounts.prefecture,
        cast(accounts.created_at as date) as created_date,
        first_won.first_won_date,
        first_mrr.acquisition_month_start_date,
        first_won.first_won_date is not null as is_customer,
        new_customers.acquired_date,
        new_customers.acquisition_basis,
        account_keys.accounts_merged
    from accounts
    inner join account_keys
        on
            accounts.account_id = account_keys.account_id
            and account_keys.account_id = account_keys.merged_account_id
    left join first_won
        on accounts.account_id = first_won.account_id
    left join first_mrr
        on accounts.account_id = first_mrr.account_id
    left join new_customers
        on accounts.account_id = new_customers.account_id
)

select * from final
