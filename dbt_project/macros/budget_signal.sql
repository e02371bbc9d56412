{#- The budget signal of mart_budget_utilisation and mart_segment_budget, read from the
    utilisation percentage as published (2 decimals), so a reader sees the same boundary:
    > 100 overschrijding, > 95 dreigende_overschrijding, < 80 onderbesteding, else op_koers; null
    without a budget; a budget of zero (no percentage): any forecast cost crosses it. -#}
{% macro budget_signal(budget_eur, forecast_eur, utilisation_pct) -%}
    case
        when {{ budget_eur }} is null then null
        when {{ budget_eur }} <= 0
            then case when {{ forecast_eur }} > 0 then 'overschrijding' else 'op_koers' end
        when {{ utilisation_pct }} > 100 then 'overschrijding'
        when {{ utilisation_pct }} > 95 then 'dreigende_overschrijding'
        when {{ utilisation_pct }} < 80 then 'onderbesteding'
        else 'op_koers'
    end
{%- endmacro %}
