{#- numerator / denominator rounded half away from zero to `decimals` places, exactly: in whole
    hundredths (for 2) on hugeint, never through a double, so a tie such as 7,189.51 / 2 =
    3,594.755 becomes 3,594.76 as a reader computes it. The numerator must be exact at that scale
    (a decimal with at most `decimals` places, or an integer). Null when the denominator is 0 or
    null. -#}
{% macro exact_ratio(numerator, denominator, decimals=2) -%}
    {%- set scale = 10 ** decimals -%}
    {%- set unit = '0.' ~ ('0' * (decimals - 1)) ~ '1' if decimals > 0 else '1' -%}
    case
        when ({{ denominator }}) <> 0 then
            cast(
                sign({{ numerator }}) * sign({{ denominator }}) * (
                    (abs(cast(({{ numerator }}) * {{ scale }} as hugeint)) * 2 + abs({{ denominator }}))
                    // (2 * abs({{ denominator }}))
                ) as decimal(38, 0)
            ) * {{ unit }}
    end
{%- endmacro %}
