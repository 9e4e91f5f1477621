-- Maps every account id to the account it is merged into: accounts sharing the value of the
-- declared merge key (dbt var account_merge_key, 法人番号 corporate_number by default) become
-- one account, kept under the smallest id; accounts without a key value stay as they are.
{%- set merge_key = var('account_merge_key', none) %}
with accounts as (
    select * from {{ ref('int_canonical__accounts') }}
),

final as (
    select
        accounts.account_id,
        {% if merge_key -%}
            case
                when accounts.{{ merge_key }} is null then accounts.account_id
                else min(accounts.account_id) over (partition by accounts.{{ merge_key }})
            end as merged_account_id,
            count(*) over (partition by coalesce(accounts.{{ merge_key }}, accounts.account_id))
                as accounts_merged
        {%- else -%}
        accounts.account_id as merged_account_id,
        1 as accounts_merged
        {%- endif %}
    from accounts
)

select * from final
