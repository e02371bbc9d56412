{#- Care months (docs/contract.md §3): a client × provider × product_code × service_month whose
    accepted (not rejected) lines net to more than zero, credits included. Each care month is
    counted for one municipality: normally all its lines go to one, but when they are split (e.g. a
    correction re-invoiced to another municipality after a move), the municipality carrying the
    largest accepted net amount gets the care month, ties to the lowest municipality code. Cost
    itself stays with the municipality each line was invoiced to (mart_costs_monthly).

    Incremental: a care month depends on its own lines only, so a run deletes the care months
    whose lines changed since its last build (new lines, late rejections: macro
    care_months_touched) and nets exactly those again; one that no longer nets above zero
    stays deleted. -#}

-- depends_on: {{ source('ingest', 'file_registry') }}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}delete from {{ this }} as stored
                  using ({{ care_months_touched() }}) as touched
                  where stored.client_key is not distinct from touched.client_key
                    and stored.provider_agb is not distinct from touched.provider_agb
                    and stored.product_code is not distinct from touched.product_code
                    and stored.service_month = touched.service_month{% endif %}",
        post_hook="{{ advance_watermark() }}"
    )
}}

with

accepted_lines as (

    select *
    from {{ ref('fct_invoice_lines') }} as lines
    where not is_rejected
        and service_month is not null
        {%- if is_incremental() %}
            and exists (
                select 1 from ({{ care_months_touched() }}) as touched
                where touched.client_key is not distinct from lines.client_key
                    and touched.provider_agb is not distinct from lines.provider_agb
                    and touched.product_code is not distinct from lines.product_code
                    and touched.service_month = lines.service_month
            )
        {%- endif %}

),

units as (

    select unit_code, minutes_per_unit
    from {{ ref('code_units') }}
    where is_time_unit

),

per_municipality as (

    select
        accepted_lines.client_key,
        accepted_lines.provider_agb,
        accepted_lines.product_code,
        accepted_lines.service_month,
        accepted_lines.municipality_code,
        max(accepted_lines.product_category) as product_category,
        sum(accepted_lines.amount_eur) as net_amount_eur,
        sum(accepted_lines.volume) as net_volume,
        sum(accepted_lines.volume * units.minutes_per_unit) as net_minutes,
        count(units.unit_code) as time_unit_lines

    from accepted_lines
    left join units
        on units.unit_code = accepted_lines.unit
    group by
        accepted_lines.client_key,
        accepted_lines.provider_agb,
        accepted_lines.product_code,
        accepted_lines.service_month,
        accepted_lines.municipality_code

),

with_share_rank as (

    select
        *,
        row_number() over (
            partition by client_key, provider_agb, product_code, service_month
            order by net_amount_eur desc, municipality_code asc
        ) as municipality_rank

    from per_municipality

),

care_months as (

    select
        client_key,
        provider_agb,
        product_code,
        service_month,
        max(case when municipality_rank = 1 then municipality_code end) as municipality_code,
        count(*) as municipality_count,
        max(product_category) as product_category,
        cast(sum(net_amount_eur) as decimal(18, 2)) as net_amount_eur,
        sum(net_volume) as net_volume,
        sum(time_unit_lines) > 0 as has_time_unit,
        -- hours only from time units; minutes are exact, so divide once at the end
        case when sum(time_unit_lines) > 0 then sum(net_minutes) / 60.0 end as care_hours

    from with_share_rank
    group by client_key, provider_agb, product_code, service_month
    having sum(net_amount_eur) > 0

)

select * from care_months
