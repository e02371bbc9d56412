{#- Plausible bounds of a JW323/JW325 line's numbers (docs/contract.md §2.1): dbt vars
    dq_max_amount_cents, dq_max_volume and dq_max_tariff_cents, by default 99,999,999, the iJw
    3.2 maximum of LDT_Bedrag and LDT_Volume. A line outside them is reported as
    implausible_value (int_file_findings_detected) and kept out of staging, so out of every sum:
    no DECIMAL or BIGINT downstream can overflow on it. Arguments are raw cent/volume columns. -#}
{% macro is_plausible_line(amount='amount_cents', volume='volume', tariff='tariff_cents') -%}
    (
        coalesce(abs({{ amount }}), 0) <= {{ var('dq_max_amount_cents', 99999999) }}
        and coalesce(abs({{ volume }}), 0) <= {{ var('dq_max_volume', 99999999) }}
        and coalesce(abs({{ tariff }}), 0) <= {{ var('dq_max_tariff_cents', 99999999) }}
    )
{%- endmacro %}
