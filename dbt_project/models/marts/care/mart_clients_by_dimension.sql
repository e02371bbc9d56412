{#- Clients and cost per municipality, year and dimension (docs/contract.md §3), from
    int_client_months_financed: ZIN and PGB together. dimension / dimension_value:
    - `total` / `totaal`: all care, ZIN and PGB;
    - `financing` / `ZIN` or `PGB`: the KPI per financing form (a client with both counts once in
      `total` and once under each);
    - `product_category` / the JZ020 code: ZIN and PGB;
    - `provider` / AGB, `segment` / the procurement segment, `product_code` / the product code:
      ZIN only (a PGB has no provider or product); `onbekend` for a product without a segment.
    clients = distinct clients with a care month in the cell during the year, counted at the
    cell's own grain (never a sum of monthly counts); care_months = the cell's care months (ZIN:
    client × provider × product_code × month counted for this municipality; PGB: client ×
    product category × month with spend above zero); amount_eur = the signed net amount of the
    year (ZIN invoiced to, PGB spent by the municipality); amount_per_client_eur = amount /
    clients; clients_per_1000_youths = clients × 1,000 / the municipality's youths aged 0-17 in
    population.csv for the year (the latest earlier year when the year has no row yet; null
    without any). -#}

with

client_months as (

    select
        *,
        cast(extract(year from service_month) as integer) as year
    from {{ ref('int_client_months_financed') }}

),

dimensioned as (

    select
        municipality_code,
        year,
        'total' as dimension,
        'totaal' as dimension_value,
        client_key,
        is_care_month,
        amount_eur
    from client_months

    union all

    select
        municipality_code,
        year,
        'financing' as dimension,
        financing as dimension_value,
        client_key,
        is_care_month,
        amount_eur
    from client_months

    union all

    select
        municipality_code,
        year,
        'product_category' as dimension,
        coalesce(product_category, 'onbekend') as dimension_value,
        client_key,
        is_care_month,
        amount_eur
    from client_months

    union all

    -- provider, segment and product: ZIN only (a PGB has neither provider nor product)
    select
        municipality_code,
        year,
        'provider' as dimension,
        provider_agb as dimension_value,
        client_key,
        is_care_month,
        amount_eur
    from client_months
    where financing = 'ZIN'

    union all

    select
        municipality_code,
        year,
        'segment' as dimension,
        coalesce(segment, 'onbekend') as dimension_value,
        client_key,
        is_care_month,
        amount_eur
    from client_months
    where financing = 'ZIN'

    union all

    select
        municipality_code,
        year,
        'product_code' as dimension,
        coalesce(product_code, 'onbekend') as dimension_value,
        client_key,
        is_care_month,
        amount_eur
    from client_months
    where financing = 'ZIN'

),

cells as (

    select
        municipality_code,
        year,
        dimension,
        dimension_value,
        count(distinct case when is_care_month then client_key end) as clients,
        sum(case when is_care_month then 1 else 0 end) as care_months,
        sum(amount_eur) as amount_eur

    from dimensioned
    group by municipality_code, year, dimension, dimension_value

),

-- the population row of the year, else of the latest earlier year
population as (

    select
        cells.municipality_code,
        cells.year,
        population.youths_0_17,
        row_number() over (
            partition by cells.municipality_code, cells.year
            order by population.year desc
        ) as year_rank

    from (select distinct municipality_code, year from cells) as cells
    inner join {{ ref('stg_reference__population') }} as population
        on population.municipality_code = cells.municipality_code
        and population.year <= cells.year

),

labels as (

    select 'total' as dimension, 'totaal' as dimension_value, 'Totaal' as dimension_label
    union all
    select 'financing' as dimension, 'ZIN' as dimension_value, 'Zorg in natura' as dimension_label
    union all
    select 'financing' as dimension, 'PGB' as dimension_value, 'Persoonsgebonden budget' as dimension_label
    union all
    select
        'product_category' as dimension,
        product_category as dimension_value,
        description as dimension_label
    from {{ ref('code_product_categories') }}
    union all
    select dimension, dimension_value, dimension_label from {{ ref('int_reference_labels') }}

),

final as (

    select
        cast(cells.municipality_code as varchar) as municipality_code,
        cast(cells.year as integer) as year,
        cast(cells.dimension as varchar) as dimension,
        cast(cells.dimension_value as varchar) as dimension_value,
        cast(
            coalesce(
                labels.dimension_label,
                case when cells.dimension_value = 'onbekend' then 'Onbekend' end,
                case when cells.dimension = 'segment' then cells.dimension_value end
            ) as varchar
        ) as dimension_label,
        cast(cells.clients as bigint) as clients,
        cast(cells.care_months as bigint) as care_months,
        cast(cells.amount_eur as decimal(18, 2)) as amount_eur,
        cast({{ exact_ratio('cells.amount_eur', 'cells.clients') }} as decimal(18, 2))
            as amount_per_client_eur,
        cast({{ exact_ratio('cells.clients * 1000', 'population.youths_0_17') }} as decimal(18, 2))
            as clients_per_1000_youths,
        cast(population.youths_0_17 as bigint) as youths_0_17

    from cells
    left join labels
        on labels.dimension = cells.dimension
        and labels.dimension_value = cells.dimension_value
    left join population
        on population.municipality_code = cells.municipality_code
        and population.year = cells.year
        and population.year_rank = 1

)

select * from final
