{#- The top-10 case view (intern only; docs/purchasing_marts.md): per municipality × year the ten
    clients with the highest accepted net cost (the money and the clients of
    mart_cost_concentration: care declared by JEUGDHULP_AS_OF, clients with a net cost above zero),
    under a per-municipality case key instead of the client_key (macros/case_key.sql). Ranks 1-10
    by cost, ties in the order of the case key (which reveals nothing of the client_key), so the
    ten amounts always sum to mart_cost_concentration.top10_cost_eur. Fewer than ten clients:
    fewer rows. Without the case-key secret the table is empty (a warning test says so) rather
    than keyed by something linkable.

    providers, products = distinct providers and product codes with a care month of the client in
    the municipality-year (net amount of client × provider × product × month above zero);
    months_in_care = distinct care months (calendar months with at least one such care month). -#}

with

client_months as (

    select * from {{ ref('int_purchasing_client_months') }}

),

secret as (

    select {{ case_key_secret() }} as value

),

client_costs as (

    select
        municipality_code,
        year,
        client_key,
        sum(amount_eur) as amount_eur

    from client_months
    group by municipality_code, year, client_key

),

keyed as (

    select
        client_costs.*,
        {{ case_key('secret.value', 'client_costs.municipality_code', 'client_costs.client_key') }}
            as case_key

    from client_costs
    cross join secret
    where secret.value is not null
        and client_costs.amount_eur > 0

),

ranked as (

    select
        *,
        row_number() over (
            partition by municipality_code, year
            order by amount_eur desc, case_key asc
        ) as cost_rank

    from keyed

),

top_ten as (

    select * from ranked
    where cost_rank <= 10

),

care_months as (

    select
        client_months.municipality_code,
        client_months.year,
        client_months.client_key,
        client_months.provider_agb,
        client_months.product_code,
        client_months.service_month

    from client_months
    inner join top_ten
        on top_ten.municipality_code = client_months.municipality_code
        and top_ten.year = client_months.year
        and top_ten.client_key = client_months.client_key
    where client_months.amount_eur > 0

),

care_profile as (

    select
        municipality_code,
        year,
        client_key,
        count(distinct provider_agb) as providers,
        count(distinct product_code) as products,
        count(distinct service_month) as months_in_care,
        string_agg(distinct product_code, ',' order by product_code) as product_codes

    from care_months
    group by municipality_code, year, client_key

),

final as (

    select
        cast(top_ten.municipality_code as varchar) as municipality_code,
        cast(top_ten.year as integer) as year,
        cast(top_ten.cost_rank as integer) as rank,
        cast(top_ten.case_key as varchar) as case_key,
        cast(top_ten.amount_eur as decimal(18, 2)) as amount_eur,
        cast(coalesce(care_profile.providers, 0) as bigint) as providers,
        cast(coalesce(care_profile.products, 0) as bigint) as products,
        cast(coalesce(care_profile.months_in_care, 0) as bigint) as months_in_care,
        cast(care_profile.product_codes as varchar) as product_codes

    from top_ten
    left join care_profile
        on care_profile.municipality_code = top_ten.municipality_code
        and care_profile.year = top_ten.year
        and care_profile.client_key = top_ten.client_key

)

select * from final
