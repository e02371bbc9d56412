{#- Date arithmetic that differs between SQL dialects. Each macro dispatches to a DuckDB
    implementation (the warehouse) and a default built on dbt's cross-database macros. -#}

{#- First day of the month of a date, as a DATE. -#}
{% macro month_start(date_expr) -%}
    {{ return(adapter.dispatch('month_start', 'jeugdhulp')(date_expr)) }}
{%- endmacro %}

{% macro duckdb__month_start(date_expr) -%}
    cast(date_trunc('month', {{ date_expr }}) as date)
{%- endmacro %}

{% macro default__month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}


{#- Last day of the month of a date, as a DATE. -#}
{% macro month_end(date_expr) -%}
    {{ return(adapter.dispatch('month_end', 'jeugdhulp')(date_expr)) }}
{%- endmacro %}

{% macro duckdb__month_end(date_expr) -%}
    last_day(cast({{ date_expr }} as date))
{%- endmacro %}

{% macro default__month_end(date_expr) -%}
    cast({{ dbt.last_day(date_expr, 'month') }} as date)
{%- endmacro %}


{#- A date plus a whole number of months, as a DATE (a month start stays a month start). -#}
{% macro add_months(date_expr, months) -%}
    {{ return(adapter.dispatch('add_months', 'jeugdhulp')(date_expr, months)) }}
{%- endmacro %}

{% macro duckdb__add_months(date_expr, months) -%}
    cast(cast({{ date_expr }} as date) + to_months(cast({{ months }} as integer)) as date)
{%- endmacro %}

{% macro default__add_months(date_expr, months) -%}
    cast({{ dbt.dateadd('month', months, date_expr) }} as date)
{%- endmacro %}


{#- Whole days from one date to another (later minus earlier is positive), as an integer. -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'jeugdhulp')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}
    cast(date_diff('day', cast({{ start_date }} as date), cast({{ end_date }} as date)) as integer)
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    cast({{ dbt.datediff(start_date, end_date, 'day') }} as integer)
{%- endmacro %}


{#- One row per month start from `first_month` to `last_month` (both inclusive), in a column
    `month_start`. Both arguments are SQL expressions (may be scalar subqueries); when either is
    null the series is empty. -#}
{% macro month_series(first_month, last_month) -%}
    {{ return(adapter.dispatch('month_series', 'jeugdhulp')(first_month, last_month)) }}
{%- endmacro %}

{% macro duckdb__month_series(first_month, last_month) -%}
    select cast(month_start as date) as month_start
    from (
        select unnest(generate_series(
            cast({{ first_month }} as date),
            cast({{ last_month }} as date),
            interval 1 month
        )) as month_start
    ) as months
{%- endmacro %}

{% macro default__month_series(first_month, last_month) -%}
    with recursive months (month_start) as (
        select cast({{ first_month }} as date)
        union all
        select {{ jeugdhulp.add_months('month_start', 1) }}
        from months
        where month_start < cast({{ last_month }} as date)
    )
    select month_start from months where month_start is not null
{%- endmacro %}
