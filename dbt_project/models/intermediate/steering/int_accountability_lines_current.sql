{#- Providers' accountability (productieverantwoording) as it currently stands: per provider and
    fiscal year, the rows of the most recently ingested file (a re-delivery replaces the earlier
    one whole), summed per municipality and product. first_delivered_on is the earliest delivery
    of that provider-year (datum_aanlevering, else the ingestion date): a later correction does
    not make an on-time delivery late. Only deliveries on or before JEUGDHULP_AS_OF count. -#}

with

lines as (

    select
        lines.*,
        files.ingested_seq,
        files.ingested_at,
        coalesce(lines.delivered_on, cast(files.ingested_at as date)) as delivery_date

    from {{ ref('stg_verantwoording__accountability_lines') }} as lines
    left join {{ ref('stg_ingest__files') }} as files
        on files.file_id = lines.file_id
    where lines.fiscal_year is not null
        and lines.provider_agb is not null
        and coalesce(lines.delivered_on, cast(files.ingested_at as date)) <= {{ as_of_date() }}

),

deliveries as (

    select
        provider_agb,
        fiscal_year,
        file_id,
        min(delivery_date) as delivery_date,
        max(ingested_seq) as ingested_seq,
        max(ingested_at) as ingested_at

    from lines
    group by provider_agb, fiscal_year, file_id

),

ranked_deliveries as (

    select
        *,
        row_number() over (
            partition by provider_agb, fiscal_year
            order by ingested_seq desc nulls last, ingested_at desc nulls last, file_id desc
        ) as recency_rank,
        min(delivery_date) over (partition by provider_agb, fiscal_year) as first_delivered_on,
        count(*) over (partition by provider_agb, fiscal_year) as deliveries

    from deliveries

),

current_lines as (

    select
        lines.provider_agb,
        lines.fiscal_year,
        lines.municipality_code,
        lines.product_code,
        max(lines.product_category) as product_category,
        sum(lines.amount_eur) as amount_eur,
        sum(lines.volume) as volume,
        sum(lines.client_count) as client_count,
        bool_or(coalesce(lines.has_auditor_statement, false)) as has_auditor_statement,
        max(ranked_deliveries.file_id) as file_id,
        max(ranked_deliveries.delivery_date) as delivered_on,
        max(ranked_deliveries.first_delivered_on) as first_delivered_on,
        max(ranked_deliveries.deliveries) as deliveries

    from lines
    inner join ranked_deliveries
        on ranked_deliveries.file_id = lines.file_id
        and ranked_deliveries.provider_agb = lines.provider_agb
        and ranked_deliveries.fiscal_year = lines.fiscal_year
        and ranked_deliveries.recency_rank = 1
    group by lines.provider_agb, lines.fiscal_year, lines.municipality_code, lines.product_code

)

select
    cast(provider_agb as varchar) as provider_agb,
    cast(fiscal_year as integer) as fiscal_year,
    cast(municipality_code as varchar) as municipality_code,
    cast(product_code as varchar) as product_code,
    cast(product_category as varchar) as product_category,
    cast(amount_eur as decimal(18, 2)) as amount_eur,
    cast(volume as decimal(18, 2)) as volume,
    cast(client_count as bigint) as client_count,
    cast(has_auditor_statement as boolean) as has_auditor_statement,
    cast(file_id as varchar) as file_id,
    cast(delivered_on as date) as delivered_on,
    cast(first_delivered_on as date) as first_delivered_on,
    cast(deliveries as bigint) as deliveries

from current_lines
