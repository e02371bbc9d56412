{#- Youths the municipality pays for but did not refer itself (docs/contract.md §3, with
    mart_referrers), per municipality and year. A youth is unknown to the municipality in a year
    when every one of their allocations (not deleted) overlapping the year came through a known
    non-municipal referrer: the JW315 the JW301 answers names a COD327 referrer type other than
    01 (gemeente: the municipal team). An allocation without a matching JW315 does not count as
    non-municipal: in iJw a municipality that decides itself sends the JW301 without a request, so
    such a youth is not counted as unknown. Allocations and years as in mart_referrers
    (int_allocations_referred, started by as_of). youths = distinct youths with an allocation
    overlapping the year; youths_known_to_municipality = youths - youths_unknown_to_municipality
    (at least one allocation through the municipality, or one without a JW315);
    cost_unknown_to_municipality_eur = the accepted net cost of the year's
    care months (declared by as_of) on the allocations of the youths unknown to the municipality. -#}

with

allocation_years as (

    select * from {{ ref('int_allocation_years_referred') }}

),

youth_years as (

    select
        municipality_code,
        year,
        client_key,
        -- every allocation of the year has a known referrer, and none is the municipality
        bool_and(referrer_type is not null and referrer_type <> '01') as is_unknown_to_municipality

    from allocation_years
    group by municipality_code, year, client_key

),

line_costs as (

    select
        lines.municipality_code,
        lines.allocation_number,
        cast(extract(year from lines.service_month) as integer) as year,
        sum(lines.amount_eur) as cost_eur

    from {{ ref('fct_invoice_lines') }} as lines
    where not lines.is_rejected
        and lines.service_month is not null
        and lines.declaration_date <= {{ as_of_date() }}
        and lines.service_month <= {{ as_of_date() }}
    group by 1, 2, 3

),

unknown_costs as (

    select
        allocation_years.municipality_code,
        allocation_years.year,
        sum(line_costs.cost_eur) as cost_eur

    from allocation_years
    inner join youth_years
        on youth_years.municipality_code = allocation_years.municipality_code
        and youth_years.year = allocation_years.year
        and youth_years.client_key is not distinct from allocation_years.client_key
    inner join line_costs
        on line_costs.municipality_code = allocation_years.municipality_code
        and line_costs.allocation_number = allocation_years.allocation_number
        and line_costs.year = allocation_years.year
    where youth_years.is_unknown_to_municipality
    group by allocation_years.municipality_code, allocation_years.year

),

cells as (

    select
        municipality_code,
        year,
        count(distinct client_key) as youths,
        count(distinct case when is_unknown_to_municipality then client_key end)
            as youths_unknown_to_municipality

    from youth_years
    group by municipality_code, year

),

final as (

    select
        cast(cells.municipality_code as varchar) as municipality_code,
        cast(cells.year as integer) as year,
        cast(cells.youths as bigint) as youths,
        cast(cells.youths_unknown_to_municipality as bigint) as youths_unknown_to_municipality,
        -- the complement, a count of persons of its own (published with its own small-cell rule)
        cast(cells.youths - cells.youths_unknown_to_municipality as bigint) as youths_known_to_municipality,
        cast(coalesce(unknown_costs.cost_eur, 0) as decimal(18, 2)) as cost_unknown_to_municipality_eur

    from cells
    left join unknown_costs
        on unknown_costs.municipality_code = cells.municipality_code
        and unknown_costs.year = cells.year

)

select * from final
