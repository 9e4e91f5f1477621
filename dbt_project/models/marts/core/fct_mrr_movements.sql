-- MRR movements per customer account and month (新規MRR, expansion, contraction, churn).
-- Amounts in the marts' money type (macro type_money) in the account's currency.
with monthly as (
    select * from {{ ref('int_account_mrr_monthly') }}
),

with_previous as (
    select
        account_id,
        currency,
        month_start_date,
        mrr_amount as ending_mrr,
        coalesce(lag(mrr_amount) over (
            partition by account_id, currency order by month_start_date
        ), 0) as starting_mrr,
        coalesce(max(mrr_amount) over (
            partition by account_id, currency
            order by month_start_date
            rows between unbounded preceding and 1 preceding
        ), 0) as previous_peak_mrr
    from monthly
),

classified as (
    select
        *,
        case
            when starting_mrr = 0 and ending_mrr > 0 and previous_peak_mrr = 0 then 'new'
            when starting_mrr = 0 and ending_mrr > 0 then 'reactivation'
            when starting_mrr > 0 and ending_mrr = 0 then 'churn'
            when ending_mrr > starting_mrr then 'expansion'
            when ending_mrr < starting_mrr then 'contraction'
            when ending_mrr > 0 then 'unchanged'
            else 'inactive'
        end as mrr_movement_type
    from with_previous
),

final as (
    select
        {{ dbt.hash("account_id || '|' || currency || '|' || cast(month_start_date as " ~ dbt.type_string() ~ ")") }}
            as mrr_movement_id,
        account_id,
        currency,
        month_start_date,
        cast(starting_mrr as {{ type_money() }}) as starting_mrr,
        cast(ending_mrr as {{ type_money() }}) as ending_mrr,
        mrr_movement_type,
        cast(
            case when mrr_movement_type = 'new' then ending_mrr else 0 end as {{ type_money() }}
        ) as new_mrr,
        cast(
            case when mrr_movement_type = 'reactivation' then ending_mrr else 0 end
            as {{ type_money() }}
        ) as reactivation_mrr,
        cast(
            case when mrr_movement_type = 'expansion' then ending_mrr - starting_mrr else 0 end
            as {{ type_money() }}
        ) as expansion_mrr,
        cast(
            case when mrr_movement_type = 'contraction' then starting_mrr - ending_mrr else 0 end
            as {{ type_money() }}
        ) as contraction_mrr,
        cast(
            case when mrr_movement_type = 'churn' then starting_mrr else 0 end as {{ type_money() }}
        ) as churned_mrr
    from classified
)

select * from final
