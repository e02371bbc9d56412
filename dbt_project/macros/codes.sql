{#- Normalising the identifiers and amounts iJw and the CSV files carry, once, in staging. -#}

{#- CBS municipality code (`484`, `0484` or `GM0484`) as `GM` + 4 digits. -#}
{% macro to_municipality_code(expr) -%}
    case when {{ expr }} is not null
        then 'GM' || lpad(replace(upper(trim({{ expr }})), 'GM', ''), 4, '0')
    end
{%- endmacro %}


{#- AGB code as 8 digits (a CSV reader may have dropped leading zeros). -#}
{% macro to_agb_code(expr) -%}
    lpad(trim({{ expr }}), 8, '0')
{%- endmacro %}


{#- iJw code-list value with its leading zero restored (`1` -> `01` for Eenheid, JZ588, ...). -#}
{% macro to_two_digit_code(expr) -%}
    lpad(trim({{ expr }}), 2, '0')
{%- endmacro %}


{#- Whole eurocents as exact euros, DECIMAL(18,2); multiplying (not dividing) keeps it decimal. -#}
{% macro cents_to_eur(expr) -%}
    cast(cast({{ expr }} as decimal(18, 0)) * 0.01 as decimal(18, 2))
{%- endmacro %}


{#- +1 for a debit, -1 for a credit (iJw DebetCredit applies to both amount and volume). -#}
{% macro debit_credit_sign(expr) -%}
    case when upper(trim({{ expr }})) = 'C' then -1 else 1 end
{%- endmacro %}
