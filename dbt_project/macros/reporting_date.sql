{#- The reporting date and the deadlines derived from it (docs/contract.md §1 and §3). -#}

{#- JEUGDHULP_AS_OF (dbt var `as_of`) as a SQL date; today when it is empty. A malformed value
    stops the build with a message instead of silently reporting as of today. -#}
{% macro as_of_date() -%}
    {%- set value = (var('as_of', '') or '') | string | trim -%}
    {%- if value == '' -%}
        current_date
    {%- else -%}
        {%- if not jeugdhulp.is_iso_date(value) -%}
            {{ exceptions.raise_compiler_error(
                "JEUGDHULP_AS_OF (dbt var as_of) must be a date as YYYY-MM-DD, got '" ~ value ~ "'") }}
        {%- endif -%}
        cast('{{ value }}' as date)
    {%- endif -%}
{%- endmacro %}


{#- True when `value` is a real calendar date written YYYY-MM-DD. -#}
{% macro is_iso_date(value) -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set year, month, day = value.split('-') | map('int') -%}
    {%- if month < 1 or month > 12 or day < 1 -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set first_of_next = (modules.datetime.date(year, month, 28)
        + modules.datetime.timedelta(days=4)).replace(day=1) -%}
    {%- set days_in_month = (first_of_next - modules.datetime.timedelta(days=1)).day -%}
    {{ return(day <= days_in_month) }}
{%- endmacro %}


{#- The dbt var `late_term_months` as a validated whole number. -#}
{% macro late_term_months() -%}
    {%- set value = var('late_term_months', 1) | string | trim -%}
    {%- if not modules.re.match('^[0-9]+$', value) -%}
        {{ exceptions.raise_compiler_error(
            "dbt var late_term_months must be a whole number of months >= 0, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}


{#- Last day on which an invoice line for `service_month` is on time: the last day of the month
    `late_term_months` after the care month (Holland Rijnland: one calendar month). -#}
{% macro invoice_deadline(service_month) -%}
    {{ jeugdhulp.month_end(jeugdhulp.add_months(service_month, jeugdhulp.late_term_months())) }}
{%- endmacro %}
