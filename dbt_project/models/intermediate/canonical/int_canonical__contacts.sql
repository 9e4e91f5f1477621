{#- Every contacts row of every source: the canonical rows (stg_canonical__contacts) and the rows
    the dbt rules of each CRM keep (int_salesforce__contacts, int_hubspot__contacts), with the
    same clean-up (macro canonical_contacts). -#}
{{ canonical_union('contacts') }}
