-- Orders and invoices (optional input) on merged accounts, with their amount in the reporting
-- currency (converted at the order date by int_money_converted): the one order source of
-- order revenue (fct_kpi_daily) and of repeat rate and usage frequency (kpi_customer_engagement).
with order_rows as (
    select * from {{ ref('stg_canonical__orders') }}
),

account_keys as (
    select * from {{ ref('int_account_keys') }}
),

order_money as (
    select * from {{ ref('int_money_converted') }}
    where record_type = 'order'
),

final as (
    select
        order_rows.order_id,
        coalesce(account_keys.merged_account_id, order_rows.account_id) as account_id,
        order_rows.ordered_date,
        order_rows.product,
        coalesce(order_rows.quantity, 0) as quantity,
        order_money.reporting_amount
    from order_rows
    left join account_keys
        on order_rows.account_id = account_keys.account_id
    left join order_money
        on order_rows.order_id = order_money.record_id
)

select * from final
