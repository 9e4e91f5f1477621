{{ config(meta={"dagster": {"ref": {"name": "stg_canonical__opportunities"}}}) }}
-- Until currency conversion exists, every amount must be in the reporting currency
-- (dbt var reporting_currency): mixing currencies would silently add yen to dollars.
{%- set reporting = var('reporting_currency') %}
select
    'opportunities' as source_table,
    opportunity_id as record_id,
    currency
from {{ ref('stg_canonical__opportunities') }}
where currency <> '{{ reporting }}'
union all
select
    'subscriptions' as source_table,
    subscription_item_id as record_id,
    currency
from {{ ref('stg_canonical__subscriptions') }}
where currency <> '{{ reporting }}'
union all
select
    'spend' as source_table,
    channel as record_id,
    currency
from {{ ref('stg_canonical__spend') }}
where currency <> '{{ reporting }}'
