{#- Every opportunities row of every source: the canonical rows (stg_canonical__opportunities) and
    the rows the dbt rules of each CRM keep (int_salesforce__opportunities,
    int_hubspot__opportunities), with the same clean-up (macro canonical_opportunities). -#}
{{ canonical_union('opportunities', {'amount': 'decimal(18, 2)'}) }}
