{#- The values of the custom fields that source.yml names (hired_date_field: HireDate__c on User,
    corporate_number_field on Account, lead_agency_field on Lead, lost_reason_field on
    Opportunity, email_opened_field on Task, event_no_show_field on Event), one row per landed
    row and option, keyed by the row's lineage. The field names differ per org (and per source),
    so they are read from raw_salesforce._config when the model is built. -#}
{%- set objects = {
    'hired_date_field': 'user',
    'corporate_number_field': 'account',
    'lead_agency_field': 'lead',
    'lost_reason_field': 'opportunity',
    'email_opened_field': 'task',
    'event_no_show_field': 'event',
} -%}
{{ crm_custom_values(
    'salesforce',
    objects,
    salesforce_custom_fields(objects.keys() | list),
    'field_value',
    'field'
) }}
