{#- The values of the custom properties source.yml names (corporate_number_property on
    companies, agency_property on contacts), one row per landed row and option, keyed by the
    row's lineage. The property is named by its export label (`法人番号`), landed as a column
    named by landing's `_slug` of it (orchestration/sources/hubspot.py); read from raw_hubspot._config when the model is
    built. -#}
{%- set objects = {
    'corporate_number_property': 'company',
    'agency_property': 'contact',
} -%}
{%- set fields = [] -%}
{%- for row in hubspot_config_rows(objects.keys() | list) -%}
    {%- if row.value is not none and row.value | trim -%}
        {%- do fields.append({
            'source_system': row.source_system,
            'option': row.config_key,
            'column': hubspot_slug(row.value),
        }) -%}
    {%- endif -%}
{%- endfor -%}

{{ crm_custom_values('hubspot', objects, fields, 'property_value', 'property') }}
