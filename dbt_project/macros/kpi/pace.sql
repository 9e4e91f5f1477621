{#- Status of a landing forecast against its target (達成見込み): 'on_pace' when the forecast is
    within ± tolerance of the target, INCLUSIVE at both ends (|forecast / target - 1| <= tolerance);
    beyond the band 'ahead' above the target and 'behind' below it for higher-is-better KPIs, the
    other way round for lower-is-better ones; null without a target or a forecast.
    The relative deviation (forecast - target) / |target| is rounded to 9 decimals before the
    comparison, so that a forecast exactly on a boundary (2.85 against 3 is -5 %, but
    (2.85 - 3) / 3 is -0.05000000000000004 in floating point) counts as on the boundary:
    deviations closer than 1e-9 of the target to the boundary are treated as on it.
    A zero target has no relative deviation: a zero forecast is on pace, any other is ahead or
    behind by its sign. -#}
{% macro pace_status(forecast, target, direction, tolerance) -%}
    case
        when ({{ target }}) is null or ({{ forecast }}) is null then null
        when ({{ target }}) = 0 and ({{ forecast }}) = 0 then 'on_pace'
        when
            ({{ target }}) <> 0
            and abs({{ round_double(
                'cast((' ~ forecast ~ ') - (' ~ target ~ ') as ' ~ type_double() ~ ') / abs(' ~ target ~ ')', 9
            ) }}) <= {{ tolerance }}
            then 'on_pace'
        when ({{ forecast }}) > ({{ target }}) then
            case when ({{ direction }}) = 'lower_is_better' then 'behind' else 'ahead' end
        else
            case when ({{ direction }}) = 'lower_is_better' then 'ahead' else 'behind' end
    end
{%- endmacro %}
