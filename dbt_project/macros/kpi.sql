{#- change in percent of the observed months against the same months of the year before; null
    without a previous value above zero or without an observed month -#}
{% macro kpi_change_pct(current, previous) -%}
    cast(
        case
            when months_observed > 0 and has_previous and {{ previous }} > 0
                then round(100.0 * ({{ current }}) / ({{ previous }}) - 100, 2)
        end
        as decimal(9, 2)
    )
{%- endmacro %}
