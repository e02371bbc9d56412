{#- mart_top_clients against mart_cost_concentration: per municipality × year the ranked amounts
    sum to top10_cost_eur and there are min(10, clients) of them, ranks 1 .. n. Checked only when
    the case view was built (with the case-key secret; assert_case_key_secret_is_set warns
    otherwise). Returns the municipality-years that disagree. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'mart_top_clients'}}}) }}


with

top_clients as (

    select
        municipality_code,
        year,
        sum(amount_eur) as amount_eur,
        count(*) as rows_ranked,
        max(rank) as last_rank

    from {{ ref('mart_top_clients') }}
    group by municipality_code, year

),

concentration as (

    select * from {{ ref('mart_cost_concentration') }}
    where exists (select 1 from {{ ref('mart_top_clients') }})

)

select
    coalesce(concentration.municipality_code, top_clients.municipality_code) as municipality_code,
    coalesce(concentration.year, top_clients.year) as year,
    concentration.top10_cost_eur,
    top_clients.amount_eur,
    concentration.clients,
    top_clients.rows_ranked

from concentration
full outer join top_clients
    on top_clients.municipality_code = concentration.municipality_code
    and top_clients.year = concentration.year
where coalesce(top_clients.amount_eur, 0) <> coalesce(concentration.top10_cost_eur, 0)
    or coalesce(top_clients.rows_ranked, 0) <> least(10, coalesce(concentration.clients, 0))
    or coalesce(top_clients.last_rank, 0) <> coalesce(top_clients.rows_ranked, 0)
