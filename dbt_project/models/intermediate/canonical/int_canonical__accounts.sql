{#- Every accounts row of every source: the canonical rows (stg_canonical__accounts) and the rows
    the dbt rules of each CRM keep (int_salesforce__accounts, int_hubspot__accounts), with the
    same clean-up (macro canonical_accounts). -#}
{{ canonical_union('accounts', {'employee_count': dbt.type_bigint()}) }}
