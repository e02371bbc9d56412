{#- The share of a final amount that had arrived, clamped to 0-1; null without a final amount
    (int_invoice_completion_learned). -#}
{% macro arrived_share(arrived, final) -%}
    case
        when {{ final }} > 0
            then least(1.0, greatest(0.0, 1.0 * {{ arrived }} / {{ final }}))
    end
{%- endmacro %}

{#- The weight of a provider's own share against the region's: lines / (lines + shrinkage), 0
    without a final amount (int_invoice_completion_learned). -#}
{% macro lines_weight(lines, final, shrinkage_lines) -%}
    case
        when {{ final }} > 0
            then 1.0 * {{ lines }} / ({{ lines }} + {{ shrinkage_lines }})
        else 0.0
    end
{%- endmacro %}
