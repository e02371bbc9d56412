{#- Care by referrer type (COD327) per municipality and year. allocations = allocations (not
    deleted) whose period overlaps the year, by the referrer of their JW315
    (int_allocations_referred); cost_eur = the accepted net cost of the year's care months
    (declared by JEUGDHULP_AS_OF) invoiced on those allocations; youths = distinct clients of
    those allocations. Cost on lines whose allocation is unknown, and allocations without a
    matching JW315, go to referrer_type `onbekend`, so the cost adds up to the municipality's
    total. youths_unknown_to_municipality and cost_unknown_to_municipality_eur are figures per
    municipality × year (mart_youths_unknown_to_municipality), repeated on each referrer type's
    row as the contract lists them with this mart: never sum them over referrer types. -#}

with

allocation_years as (

    select * from {{ ref('int_allocation_years_referred') }}

),

line_costs as (

    select
        lines.municipality_code,
        lines.allocation_number,
        lines.client_key,
        cast(extract(year from lines.service_month) as integer) as year,
        sum(lines.amount_eur) as cost_eur

    from {{ ref('fct_invoice_lines') }} as lines
    where not lines.is_rejected
        and lines.service_month is not null
        and lines.declaration_date <= {{ as_of_date() }}
        and lines.service_month <= {{ as_of_date() }}
    group by 1, 2, 3, 4

),

costs_typed as (

    select
        line_costs.municipality_code,
        line_costs.year,
        line_costs.client_key,
        allocations.referrer_type,
        allocations.allocation_number is not null as has_allocation,
        line_costs.cost_eur

    from line_costs
    left join {{ ref('int_allocations_referred') }} as allocations
        on allocations.municipality_code = line_costs.municipality_code
        and allocations.allocation_number = line_costs.allocation_number

),

allocation_cells as (

    select
        municipality_code,
        referrer_type,
        year,
        count(*) as allocations

    from allocation_years
    group by municipality_code, referrer_type, year

),

youth_cells as (

    select municipality_code, referrer_type, year, count(distinct client_key) as youths
    from (
        select municipality_code, referrer_type, year, client_key from allocation_years
        union
        -- clients invoiced on an unknown allocation count under "onbekend"
        select municipality_code, cast(null as varchar) as referrer_type, year, client_key
        from costs_typed
        where not has_allocation
            and cost_eur > 0
    ) as clients
    group by municipality_code, referrer_type, year

),

cost_cells as (

    select
        municipality_code,
        referrer_type,
        year,
        sum(cost_eur) as cost_eur

    from costs_typed
    group by municipality_code, referrer_type, year

),

cells as (

    select municipality_code, referrer_type, year from allocation_cells
    union
    select municipality_code, referrer_type, year from cost_cells

),

final as (

    select
        cast(cells.municipality_code as varchar) as municipality_code,
        cast(coalesce(cells.referrer_type, 'onbekend') as varchar) as referrer_type,
        cast(coalesce(referrer_types.description, 'Onbekend') as varchar) as referrer_description,
        cast(cells.year as integer) as year,
        cast(coalesce(allocation_cells.allocations, 0) as bigint) as allocations,
        cast(coalesce(youth_cells.youths, 0) as bigint) as youths,
        cast(coalesce(cost_cells.cost_eur, 0) as decimal(18, 2)) as cost_eur,
        -- per municipality × year, repeated on each referrer type's row (not to be summed)
        cast(coalesce(unknown.youths_unknown_to_municipality, 0) as bigint)
            as youths_unknown_to_municipality,
        cast(coalesce(unknown.cost_unknown_to_municipality_eur, 0) as decimal(18, 2))
            as cost_unknown_to_municipality_eur

    from cells
    left join allocation_cells
        on allocation_cells.municipality_code = cells.municipality_code
        and allocation_cells.referrer_type is not distinct from cells.referrer_type
        and allocation_cells.year = cells.year
    left join cost_cells
        on cost_cells.municipality_code = cells.municipality_code
        and cost_cells.referrer_type is not distinct from cells.referrer_type
        and cost_cells.year = cells.year
    left join youth_cells
        on youth_cells.municipality_code = cells.municipality_code
        and youth_cells.referrer_type is not distinct from cells.referrer_type
        and youth_cells.year = cells.year
    left join {{ ref('mart_youths_unknown_to_municipality') }} as unknown
        on unknown.municipality_code = cells.municipality_code
        and unknown.year = cells.year
    left join {{ ref('code_referrer_types') }} as referrer_types
        on referrer_types.referrer_type_code = cells.referrer_type

)

select * from final
