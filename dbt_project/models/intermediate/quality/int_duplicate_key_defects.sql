-- Records exported twice under one id with different content: staging keeps the row of the
-- latest file and row; every other row is reported here (rule duplicate_key_conflict) with
-- its own file and row. Identical copies are harmless and not reported. Users are checked in
-- int_user_defects (a person legitimately has one row per role).
{%- set text = dbt.type_string() %}
{%- set entities = {
    'leads': 'lead_id',
    'opportunities': 'opportunity_id',
    'accounts': 'account_id',
    'activities': 'activity_id',
    'subscriptions': 'subscription_item_id',
    'orders': 'order_id',
} %}
with
{%- for entity, key in entities.items() %}
    {%- set relation = source('canonical', entity) %}
    {%- set content = [] %}
    {%- if execute %}
        {%- for column in adapter.get_columns_in_relation(relation) %}
            {%- if not column.name.startswith('_') and column.name != key %}
                {%- do content.append(
                    "coalesce(cast(" ~ adapter.quote(column.name) ~ " as " ~ text ~ "), '<null>')"
                ) %}
            {%- endif %}
        {%- endfor %}
    {%- endif %}
    {%- if not content %}{% do content.append("''") %}{% endif %}
{{ entity }}_rows as (
    select
        {{ key }} as record_id,
        _source_system as source_system,
        _source_file as source_file,
        _row_number as source_row,
        {{ dbt.hash(content | join(" || '|' || ")) }} as content_hash,
        row_number() over (
            partition by {{ key }} order by _source_file desc, _row_number desc
        ) as position_from_latest
    from {{ relation }}
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
