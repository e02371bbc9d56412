{#- Budget-ceiling utilisation per provider and year, with a year-end forecast that includes care
    delivered but not yet invoiced (int_provider_months_projected, docs/forecast.md). The signal
    is read from utilisation_pct as published (2 decimals), so a reader sees the same boundary:
    > 100 overschrijding, > 95 dreigende_overschrijding, < 80 onderbesteding, else op_koers;
    null without a ceiling. A ceiling of zero has no percentage; any forecast cost crosses it. -#}

with

months as (

    select * from {{ ref('int_provider_months_projected') }}

),

ceilings as (

    select
        provider_agb,
        year,
        sum(budget_ceiling_eur) as budget_ceiling_eur

    from {{ ref('stg_reference__budget_ceilings') }}
    where year <= extract(year from {{ as_of_date() }})
    group by provider_agb, year

),

providers as (

    select provider_agb, provider_name, contract_type
    from (
        select
            *,
            row_number() over (partition by provider_agb order by record_position) as position_rank
        from {{ ref('stg_reference__providers') }}
    ) as ranked
    where position_rank = 1

),

per_year as (

    select
        provider_agb,
        year,
        sum(invoiced_eur) as invoiced_eur,
        sum(outstanding_eur) as outstanding_eur,
        sum(projected_eur) as projected_eur,
        sum(forecast_eur) as forecast_eur

    from months
    group by provider_agb, year

),

provider_years as (

    select provider_agb, year from per_year where invoiced_eur <> 0 or forecast_eur <> 0
    union
    select provider_agb, year from ceilings

),

utilisation as (

    select
        provider_years.provider_agb,
        provider_years.year,
        providers.provider_name,
        providers.contract_type,
        ceilings.budget_ceiling_eur,
        coalesce(per_year.invoiced_eur, 0) as invoiced_eur,
        coalesce(per_year.outstanding_eur, 0) as outstanding_eur,
        coalesce(per_year.projected_eur, 0) as projected_eur,
        coalesce(per_year.forecast_eur, 0) as forecast_eur,
        case
            when ceilings.budget_ceiling_eur > 0
                then round(100.0 * coalesce(per_year.forecast_eur, 0) / ceilings.budget_ceiling_eur, 2)
        end as utilisation_pct

    from provider_years
    left join per_year
        on per_year.provider_agb = provider_years.provider_agb
        and per_year.year = provider_years.year
    left join ceilings
        on ceilings.provider_agb = provider_years.provider_agb
        and ceilings.year = provider_years.year
    left join providers
        on providers.provider_agb = provider_years.provider_agb

),

final as (

    select
        cast(provider_agb as varchar) as provider_agb,
        cast(year as integer) as year,
        cast(provider_name as varchar) as provider_name,
        cast(contract_type as varchar) as contract_type,
        cast(budget_ceiling_eur as decimal(18, 2)) as budget_ceiling_eur,
        cast(invoiced_eur as decimal(18, 2)) as invoiced_eur,
        cast(outstanding_eur as decimal(18, 2)) as outstanding_eur,
        cast(projected_eur as decimal(18, 2)) as projected_eur,
        cast(forecast_eur as decimal(18, 2)) as forecast_eur,
        cast(utilisation_pct as decimal(18, 2)) as utilisation_pct,
        cast(
            case
                when budget_ceiling_eur is null then null
                -- a ceiling of zero: any cost crosses it
                when budget_ceiling_eur <= 0
                    then case when forecast_eur > 0 then 'overschrijding' else 'op_koers' end
                when utilisation_pct > 100 then 'overschrijding'
                when utilisation_pct > 95 then 'dreigende_overschrijding'
                when utilisation_pct < 80 then 'onderbesteding'
                else 'op_koers'
            end
            as varchar
        ) as signal,
        cast({{ as_of_date() }} as date) as as_of_date

    from utilisation

)

select * from final
