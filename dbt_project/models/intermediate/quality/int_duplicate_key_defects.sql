-- Records exported twice under one id with different content: staging keeps the row of the
-- latest file and row; every other row is reported here (rule duplicate_key_conflict) with
-- its own file and row. Identical copies are harmless and not reported. Rows of a Salesforce
-- or HubSpot source come from its dbt rules (int_<crm>__<entity>; their ids are namespaced by
-- source, so they never meet a canonical id). Users are checked in int_user_defects (a person
-- legitimately has one row per role). An exchange rate is keyed by its date and currency pair,
-- which two sources can both give (a Salesforce DatedConversionRate and exchange_rates.csv):
-- the same pair with two different rates is reported too.
-- Only ids that occur more than once can conflict: a pass over the ids alone finds them, and
-- only their rows are hashed and ranked (at 10M activities, hashing every row's content cost
-- more than the rest of the rule).
{%- set text = dbt.type_string() %}
{%- set entities = {
    'leads': 'lead_id',
    'opportunities': 'opportunity_id',
    'accounts': 'account_id',
    'activities': 'activity_id',
    'subscriptions': 'subscription_item_id',
    'orders': 'order_id',
    'exchange_rates': 'rate_date, from_currency, to_currency',
} %}
{%- set audit_columns = ['source_system', 'source_file', 'source_row'] %}
with
{%- for entity, key in entities.items() %}
    {%- set key_columns = key.split(', ') %}
    {%- set record_id = [] %}
    {%- for column in key_columns %}
        {%- do record_id.append("cast(" ~ column ~ " as " ~ text ~ ")") %}
    {%- endfor %}
    {%- set branches = [
        (source('canonical', entity), '_source_system', '_source_file', '_row_number')
    ] %}
    {%- if entity in ['leads', 'opportunities', 'accounts', 'activities', 'exchange_rates'] %}
        {%- for rules in crm_rule_models(entity) %}
            {%- do branches.append((rules, 'source_system', 'source_file', 'source_row')) %}
        {%- endfor %}
    {%- endif %}
{{ entity }}_repeated_ids as (
    select record_id
    from (
        {%- for relation, system_column, file_column, row_column in branches %}
        select {{ record_id | join(" || ' ' || ") }} as record_id
        from {{ relation }}
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ) as ids
    group by record_id
    having count(*) > 1
),

{{ entity }}_all_rows as (
    {%- for relation, system_column, file_column, row_column in branches %}
        {%- set content = [] %}
        {%- if execute %}
            {%- for column in adapter.get_columns_in_relation(relation) %}
                {%- if not column.name.startswith('_') and column.name not in key_columns
                    and column.name not in audit_columns %}
                    {%- do content.append(
                        "coalesce(cast(" ~ adapter.quote(column.name) ~ " as " ~ text
                        ~ "), '<null>')"
                    ) %}
                {%- endif %}
            {%- endfor %}
        {%- endif %}
        {%- if not content %}{% do content.append("''") %}{% endif %}
    select
        {{ record_id | join(" || ' ' || ") }} as record_id,
        {{ system_column }} as source_system,
        {{ file_column }} as source_file,
        {{ row_column }} as source_row,
        {{ dbt.hash(content | join(" || '|' || ")) }} as content_hash
    from {{ relation }}
    where {{ record_id | join(" || ' ' || ") }} in (select record_id from {{ entity }}_repeated_ids)
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

{{ entity }}_rows as (
    select
        record_id,
        source_system,
        source_file,
        source_row,
        content_hash,
        row_number() over (
            partition by record_id order by source_file desc, source_row desc
        ) as position_from_latest
    from {{ entity }}_all_rows
),

{{ entity }}_conflicts as (
    select record_id
    from {{ entity }}_rows
    group by record_id
    having count(distinct content_hash) > 1
),

{%- endfor %}
final as (
    {%- for entity in entities %}
    select
        'duplicate_key_conflict' as rule_code,
        '{{ entity }}' as entity,
        duplicates.record_id,
        duplicates.source_system,
        duplicates.source_file,
        duplicates.source_row,
        'ignored: the row of ' || latest.source_file || ' row '
        || cast(latest.source_row as {{ text }}) || ' has different content and wins'
            as offending_values
    from {{ entity }}_rows as duplicates
    inner join {{ entity }}_conflicts as conflicts
        on duplicates.record_id = conflicts.record_id
    inner join {{ entity }}_rows as latest
        on duplicates.record_id = latest.record_id and latest.position_from_latest = 1
    where duplicates.position_from_latest > 1
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from final
