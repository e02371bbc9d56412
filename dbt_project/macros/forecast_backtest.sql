{#- The table `jeugdhulp backtest` lands its replays in (jeugdhulp/forecasting/backtest.py), or
    none when no backtest ever ran on this warehouse (and while dbt parses). Not a dbt source: only
    that command writes it, and a warehouse without it must still build. -#}
{% macro forecast_replays_relation() -%}
    {%- if execute -%}
        {{ return(adapter.get_relation(
            database=target.database, schema='backtest', identifier='forecast_replays'
        )) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
