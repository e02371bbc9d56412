{#- Providers' annual accountability against what they invoiced, per provider, municipality,
    product and year, for every year that has closed as of JEUGDHULP_AS_OF (and any year an
    accountability was delivered for). invoiced = accepted net amount of the year's care months
    (declared by as_of); difference = accountability − invoiced, a missing side counting as 0.
    status: geen_verantwoording (invoiced, not accounted for), geen_declaraties (accounted for,
    nothing accepted invoiced), akkoord (|difference| ≤ € 1.00), else verschil.
    delivered_on_time is about the provider's accountability for the year (due 1 April of the
    next year): its first delivery was on or before the due date; false when it came later or has
    not come while the due date has passed; null while it is not due yet. -#}

with

accounted as (

    select * from {{ ref('int_accountability_lines_current') }}

),

years as (

    select distinct cast(extract(year from service_month) as integer) as year
    from {{ ref('fct_invoice_lines') }}
    where service_month is not null
        and extract(year from service_month) < extract(year from {{ as_of_date() }})
    union
    select distinct fiscal_year from accounted

),

invoiced as (

    select
        lines.provider_agb,
        lines.municipality_code,
        lines.product_code,
        cast(extract(year from lines.service_month) as integer) as year,
        max(lines.product_category) as product_category,
        sum(lines.amount_eur) as amount_eur

    from {{ ref('fct_invoice_lines') }} as lines
    inner join years
        on years.year = extract(year from lines.service_month)
    where not lines.is_rejected
        and lines.declaration_date <= {{ as_of_date() }}
    group by 1, 2, 3, 4

),

accounted_cells as (

    select
        provider_agb,
        municipality_code,
        product_code,
        fiscal_year as year,
        product_category,
        amount_eur

    from accounted

),

provider_deliveries as (

    select
        provider_agb,
        fiscal_year as year,
        min(first_delivered_on) as first_delivered_on

    from accounted
    group by provider_agb, fiscal_year

),

cells as (

    select
        coalesce(accounted_cells.provider_agb, invoiced.provider_agb) as provider_agb,
        coalesce(accounted_cells.municipality_code, invoiced.municipality_code) as municipality_code,
        coalesce(accounted_cells.product_code, invoiced.product_code) as product_code,
        coalesce(accounted_cells.year, invoiced.year) as year,
        coalesce(invoiced.product_category, accounted_cells.product_category) as product_category,
        accounted_cells.amount_eur as accountability_amount_eur,
        invoiced.amount_eur as invoiced_amount_eur

    from accounted_cells
    full outer join invoiced
        on invoiced.provider_agb = accounted_cells.provider_agb
        and invoiced.municipality_code = accounted_cells.municipality_code
        and invoiced.product_code = accounted_cells.product_code
        and invoiced.year = accounted_cells.year

),

reconciled as (

    select
        cells.*,
        coalesce(accountability_amount_eur, 0) - coalesce(invoiced_amount_eur, 0) as difference_eur,
        case
            when accountability_amount_eur is null then 'geen_verantwoording'
            when invoiced_amount_eur is null then 'geen_declaraties'
            when abs(accountability_amount_eur - invoiced_amount_eur) <= 1.00 then 'akkoord'
            else 'verschil'
        end as status,
        cast(cast(cells.year + 1 as varchar) || '-04-01' as date) as accountability_due_date,
        provider_deliveries.first_delivered_on

    from cells
    left join provider_deliveries
        on provider_deliveries.provider_agb = cells.provider_agb
        and provider_deliveries.year = cells.year

),

final as (

    select
        cast(provider_agb as varchar) as provider_agb,
        cast(municipality_code as varchar) as municipality_code,
        cast(product_code as varchar) as product_code,
        cast(year as integer) as year,
        cast(product_category as varchar) as product_category,
        cast(accountability_amount_eur as decimal(18, 2)) as accountability_amount_eur,
        cast(invoiced_amount_eur as decimal(18, 2)) as invoiced_amount_eur,
        cast(difference_eur as decimal(18, 2)) as difference_eur,
        cast(status as varchar) as status,
        cast(accountability_due_date as date) as accountability_due_date,
        cast(first_delivered_on as date) as first_delivered_on,
        cast(
            case
                when first_delivered_on is not null then first_delivered_on <= accountability_due_date
                when accountability_due_date < {{ as_of_date() }} then false
            end
            as boolean
        ) as delivered_on_time

    from reconciled

)

select * from final
