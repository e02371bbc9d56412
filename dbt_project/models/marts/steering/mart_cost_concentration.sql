{#- How concentrated each municipality's youth-care cost is per year: the ten clients with the
    highest accepted net cost in the year (for that municipality, declared by JEUGDHULP_AS_OF)
    against the total. clients = distinct clients whose net cost in the municipality-year is
    above zero; total_cost_eur = all accepted net cost of the year (the same money as
    mart_settlement.actual_cost_eur); top10 = the sum of the ten largest client totals (ties
    do not change the sum). -#}

with

client_costs as (

    select
        municipality_code,
        cast(extract(year from service_month) as integer) as year,
        client_key,
        sum(amount_eur) as cost_eur

    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and service_month is not null
        and declaration_date <= {{ as_of_date() }}
        and service_month <= {{ as_of_date() }}
    group by 1, 2, 3

),

ranked as (

    select
        *,
        row_number() over (
            partition by municipality_code, year
            order by cost_eur desc, client_key asc
        ) as cost_rank

    from client_costs

),

per_year as (

    select
        municipality_code,
        year,
        sum(case when cost_eur > 0 then 1 else 0 end) as clients,
        sum(cost_eur) as total_cost_eur,
        sum(case when cost_rank <= 10 and cost_eur > 0 then cost_eur else 0 end) as top10_cost_eur

    from ranked
    group by municipality_code, year

),

final as (

    select
        cast(municipality_code as varchar) as municipality_code,
        cast(year as integer) as year,
        cast(clients as bigint) as clients,
        cast(total_cost_eur as decimal(18, 2)) as total_cost_eur,
        cast(top10_cost_eur as decimal(18, 2)) as top10_cost_eur,
        cast(
            case when total_cost_eur > 0 then round(100 * top10_cost_eur / total_cost_eur, 2) end
            as decimal(9, 2)
        ) as top10_share_pct

    from per_year

)

select * from final
