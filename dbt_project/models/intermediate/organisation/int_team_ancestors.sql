-- Every team with every unit above it (teams export: manager, office, region...), one row per
-- team and ancestor with the ancestor's level and distance; a fact of a rep counts for each of
-- them (kpi_scorecard scope_type org_unit). Self-joins up to a fixed depth keep it portable
-- (no recursive CTE); deeper organisations are cut at that depth.
{%- set max_depth = 6 %}
with teams as (
    select * from {{ ref('stg_canonical__teams') }}
),

{% for depth in range(1, max_depth + 1) %}
level_{{ depth }} as (
    select
        {%- if depth == 1 %}
        teams.team_id,
        {%- else %}
        level_{{ depth - 1 }}.team_id,
        {%- endif %}
        parents.team_id as ancestor_team_id,
        parents.unit_level as ancestor_level,
        parents.parent_team_id as next_parent_id,
        {{ depth }} as depth
    {%- if depth == 1 %}
    from teams
    inner join teams as parents
        on teams.parent_team_id = parents.team_id
    {%- else %}
    from level_{{ depth - 1 }}
    inner join teams as parents
        on level_{{ depth - 1 }}.next_parent_id = parents.team_id
    {%- endif %}
),

{% endfor %}
ancestors as (
    {%- for depth in range(1, max_depth + 1) %}
    select
        team_id,
        ancestor_team_id,
        ancestor_level,
        depth
    from level_{{ depth }}
    where ancestor_team_id <> team_id
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- A unit named twice up the chain (a cycle in the export) counts once, at its nearest depth.
final as (
    select
        team_id,
        ancestor_team_id,
        max(ancestor_level) as ancestor_level,
        min(depth) as depth
    from ancestors
    group by team_id, ancestor_team_id
)

select * from final
