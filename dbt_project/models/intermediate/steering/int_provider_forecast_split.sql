{#- The providers' year-end forecast (int_provider_months_projected, the forecast_eur of
    mart_budget_utilisation) split over municipalities and segments, for mart_segment_budget (by
    segment) and mart_kpi_annual (by municipality):
    - invoiced_eur: accepted net amount of the year's care months declared on or before as_of, per
      municipality and by the segment of the product version valid in the care month
      (products.csv, the rule of mart_costs_monthly); a product without a segment: `onbekend`.
    - forecast_eur: the invoiced part where it was invoiced, plus the provider's part not yet
      invoiced (forecast − invoiced: outstanding + projected) in proportion to the provider's
      invoiced amount per municipality × segment in the same year (a cell with a net credit
      weighs 0); a provider with nothing invoiced in the year by its mix over all its care months
      up to as_of; a provider that never invoiced under segment `onbekend` and no municipality.
    The part not yet invoiced is divided in whole cents by largest remainder (macro
    largest_remainder_cents; ties: municipality_code, then segment), so Σ forecast_eur over
    municipalities and segments = the provider's forecast_eur to the cent, as
    mart_budget_utilisation rounds it, and the marts' sums add up to each other exactly. -#}

with

lines as (

    select
        provider_agb,
        municipality_code,
        product_code,
        product_category,
        service_month,
        cast(extract(year from service_month) as integer) as year,
        amount_eur

    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and service_month is not null
        and declaration_date <= {{ as_of_date() }}
        and service_month <= {{ as_of_date() }}

),

products as (

    select * from {{ ref('stg_reference__products') }}

),

-- the segment of the product version valid in the care month; the latest version when several are
line_segments as (

    select
        lines.provider_agb,
        lines.municipality_code,
        lines.year,
        lines.service_month,
        lines.product_code,
        lines.product_category,
        sum(lines.amount_eur) as amount_eur

    from lines
    group by
        lines.provider_agb,
        lines.municipality_code,
        lines.year,
        lines.service_month,
        lines.product_code,
        lines.product_category

),

product_months as (

    select distinct product_code, product_category, service_month
    from line_segments

),

versions as (

    select
        product_months.product_code,
        product_months.product_category,
        product_months.service_month,
        nullif(trim(products.segment), '') as segment,
        row_number() over (
            partition by
                product_months.product_code, product_months.product_category, product_months.service_month
            order by products.valid_from desc nulls last
        ) as version_rank

    from product_months
    inner join products
        on products.product_code = product_months.product_code
        and products.product_category = product_months.product_category
        and (
            products.valid_from is null
            or products.valid_from <= {{ month_end('product_months.service_month') }}
        )
        and (products.valid_to is null or products.valid_to >= product_months.service_month)

),

segmented as (

    select
        line_segments.provider_agb,
        line_segments.municipality_code,
        line_segments.year,
        line_segments.amount_eur,
        coalesce(versions.segment, 'onbekend') as segment

    from line_segments
    left join versions
        on versions.service_month = line_segments.service_month
        and versions.product_code = line_segments.product_code
        and versions.product_category = line_segments.product_category
        and versions.version_rank = 1

),

provider_segment_years as (

    select
        provider_agb,
        year,
        municipality_code,
        lower(segment) as segment_key,
        min(segment) as segment,
        sum(amount_eur) as invoiced_eur

    from segmented
    group by provider_agb, year, municipality_code, lower(segment)

),

provider_segments_all as (

    select
        provider_agb,
        municipality_code,
        segment_key,
        min(segment) as segment,
        sum(invoiced_eur) as invoiced_eur

    from provider_segment_years
    group by provider_agb, municipality_code, segment_key

),

-- the provider's forecast to the cent, as mart_budget_utilisation rounds it
provider_years as (

    select
        provider_agb,
        year,
        cast(sum(invoiced_eur) as decimal(18, 2)) as invoiced_eur,
        cast(sum(forecast_eur) as decimal(18, 2)) as forecast_eur

    from {{ ref('int_provider_months_projected') }}
    group by provider_agb, year

),

-- the provider's weights: the year's own mix when it has one, else the mix over all its months
year_mix_total as (

    select provider_agb, year, sum(greatest(invoiced_eur, 0)) as weight_total
    from provider_segment_years
    group by provider_agb, year

),

all_mix_total as (

    select provider_agb, sum(greatest(invoiced_eur, 0)) as weight_total
    from provider_segments_all
    group by provider_agb

),

not_yet_invoiced as (

    select
        provider_years.provider_agb,
        provider_years.year,
        provider_years.forecast_eur - coalesce(provider_years.invoiced_eur, 0) as open_eur,
        coalesce(year_mix_total.weight_total, 0) > 0 as has_year_mix,
        coalesce(all_mix_total.weight_total, 0) > 0 as has_any_mix,
        year_mix_total.weight_total as year_weight_total,
        all_mix_total.weight_total as all_weight_total

    from provider_years
    left join year_mix_total
        on year_mix_total.provider_agb = provider_years.provider_agb
        and year_mix_total.year = provider_years.year
    left join all_mix_total
        on all_mix_total.provider_agb = provider_years.provider_agb
    where provider_years.forecast_eur - coalesce(provider_years.invoiced_eur, 0) <> 0

),

-- the part not yet invoiced in whole cents, divided over the cells by their weights (largest
-- remainder), so the cells add up to the provider's forecast to the cent
open_to_divide as (

    select
        open.provider_agb,
        open.year,
        mix.municipality_code,
        mix.segment_key,
        mix.segment,
        cast(round(100 * greatest(mix.invoiced_eur, 0)) as hugeint) as key_cents,
        cast(round(100 * open.year_weight_total) as hugeint) as key_region_cents,
        cast(round(100 * open.open_eur) as hugeint) as total_cents
    from not_yet_invoiced as open
    inner join provider_segment_years as mix
        on mix.provider_agb = open.provider_agb
        and mix.year = open.year
    where open.has_year_mix

    union all

    select
        open.provider_agb,
        open.year,
        mix.municipality_code,
        mix.segment_key,
        mix.segment,
        cast(round(100 * greatest(mix.invoiced_eur, 0)) as hugeint) as key_cents,
        cast(round(100 * open.all_weight_total) as hugeint) as key_region_cents,
        cast(round(100 * open.open_eur) as hugeint) as total_cents
    from not_yet_invoiced as open
    inner join provider_segments_all as mix
        on mix.provider_agb = open.provider_agb
    where not open.has_year_mix and open.has_any_mix

    union all

    select
        open.provider_agb,
        open.year,
        cast(null as varchar) as municipality_code,
        'onbekend' as segment_key,
        'onbekend' as segment,
        cast(1 as hugeint) as key_cents,
        cast(1 as hugeint) as key_region_cents,
        cast(round(100 * open.open_eur) as hugeint) as total_cents
    from not_yet_invoiced as open
    where not open.has_any_mix

),

open_split as (

    {{ largest_remainder_cents(
        'open_to_divide', 'provider_agb, year', 'municipality_code nulls last, segment_key'
    ) }}

),

parts as (

    select
        provider_agb,
        year,
        municipality_code,
        segment_key,
        segment,
        invoiced_eur,
        invoiced_eur as forecast_eur
    from provider_segment_years

    union all

    select
        provider_agb,
        year,
        municipality_code,
        segment_key,
        segment,
        0 as invoiced_eur,
        cast(cents as decimal(18, 0)) * 0.01 as forecast_eur
    from open_split

),

final as (

    select
        cast(provider_agb as varchar) as provider_agb,
        cast(year as integer) as year,
        cast(municipality_code as varchar) as municipality_code,
        cast(segment_key as varchar) as segment_key,
        cast(min(segment) as varchar) as segment,
        cast(sum(invoiced_eur) as decimal(18, 2)) as invoiced_eur,
        cast(sum(forecast_eur) as decimal(24, 6)) as forecast_eur

    from parts
    group by provider_agb, year, municipality_code, segment_key

)

select * from final
