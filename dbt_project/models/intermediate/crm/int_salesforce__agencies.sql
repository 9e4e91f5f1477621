{#- Salesforce agencies (営業代行) from source.yml `agencies` (macro crm_config_agencies). -#}
{{ crm_config_agencies('salesforce') }}
