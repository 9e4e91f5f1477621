{#- Salesforce contacts in the canonical contacts entity: the kept rows of
    int_salesforce__contacts_checked. -#}
{{ crm_kept_rows('int_salesforce__contacts_checked', 'contacts') }}
