-- The won deals kept out of a cycle duration by a data defect (int_opportunity_defects), one row
-- per deal: which duration is meaningless and the rules behind it. The one place that decides
-- which rules exclude a deal from which duration (kpi_sales_cycle_deals, kpi_handoff).
with defects as (
    select * from {{ ref('int_opportunity_defects') }}
    where rule_code in (
        'won_before_lead_created', 'won_before_opportunity_created', 'opportunity_created_unknown'
    )
),

final as (
    select
        record_id as opportunity_id,
        max(case when rule_code = 'won_before_lead_created' then 1 else 0 end) = 1
            as is_lead_cycle_defect,
        max(case when rule_code <> 'won_before_lead_created' then 1 else 0 end) = 1
            as is_opportunity_cycle_defect,
        {{ dbt.listagg('rule_code', "', '", 'order by rule_code') }} as excluded_reason
    from defects
    group by record_id
)

select * from final
