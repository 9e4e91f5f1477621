{#- Every activities row of every source: the canonical rows (stg_canonical__activities) and the
    rows the dbt rules of each CRM keep (int_salesforce__activities, int_hubspot__activities),
    with the same clean-up (macro canonical_activities). -#}
{{ canonical_union('activities', {'duration_minutes': dbt.type_bigint()}) }}
