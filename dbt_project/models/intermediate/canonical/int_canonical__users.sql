{#- Every users row of every source: the canonical rows (stg_canonical__users) and the rows the dbt
    rules of each CRM keep (int_salesforce__users, int_hubspot__users), with the same clean-up
    (macro canonical_users). -#}
{{ canonical_union('users') }}
