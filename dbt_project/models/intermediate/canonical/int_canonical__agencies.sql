{#- Every agencies row of every source: the canonical rows (stg_canonical__agencies) and the rows
    the dbt rules of each CRM keep (int_salesforce__agencies, int_hubspot__agencies), with the
    same clean-up (macro canonical_agencies). -#}
{{ canonical_union('agencies') }}
