{#- Every leads row of every source: the canonical rows (stg_canonical__leads) and the rows the dbt
    rules of each CRM keep (int_salesforce__leads, int_hubspot__leads), with the same clean-up
    (macro canonical_leads). -#}
{{ canonical_union('leads') }}
