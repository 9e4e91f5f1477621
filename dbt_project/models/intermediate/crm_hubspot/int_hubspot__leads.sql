{#- HubSpot leads in the canonical leads entity: the kept contact rows of
    int_hubspot__contacts_checked that became a lead (lead_id = contact_id). -#}
{{ crm_kept_rows(
    'int_hubspot__contacts_checked',
    'leads',
    expressions={'lead_id': 'contact_id', 'created_at': 'lead_created_at'},
    condition='is_lead'
) }}
