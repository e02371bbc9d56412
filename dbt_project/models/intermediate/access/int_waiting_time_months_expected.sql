{#- Which waiting-time deliveries were owed, and whether each arrived (docs/contract.md §3,
    mart_waiting_times).

    Owed: a provider × product category × month when
    - the provider held an allocation in that category in the month's year (not deleted,
      Ingangsdatum on or before 31 December, Einddatum open or on or after 1 January): the
      categories it is contracted and active for;
    - the month lies on or after the first month any provider delivered for (the region's start
      of the Beschikbaarheidswijzer: before it nothing was owed), and
    - its delivery deadline passed before the reporting date: the last day of the month
      `waiting_times_term_months` (dbt var, default 1) after the month.
    Delivered: a current line (int_waiting_times_assessed) for that provider, category and month.
    A delivery that was not owed (a category without allocations, a month not yet due) is kept
    with is_expected = false. -#}

with

as_of as (

    select {{ as_of_date() }} as as_of_date

),

deliveries as (

    select * from {{ ref('int_waiting_times_assessed') }}
    where is_current

),

months as (

    {{ month_series(
        "(select min(report_month) from " ~ ref('int_waiting_times_assessed') ~ " where is_current)",
        month_start(as_of_date())
    ) }}

),

due_months as (

    select months.month_start as report_month
    from months
    cross join as_of
    where {{ month_end(add_months('months.month_start', var('waiting_times_term_months'))) }}
        < as_of.as_of_date

),

contracted as (

    select distinct
        allocations.provider_agb,
        allocations.product_category,
        due_months.report_month

    from {{ ref('int_allocations_resolved') }} as allocations
    inner join due_months
        on allocations.start_date
        <= cast(cast(extract(year from due_months.report_month) as varchar) || '-12-31' as date)
        and coalesce(allocations.end_date, due_months.report_month)
        >= cast(cast(extract(year from due_months.report_month) as varchar) || '-01-01' as date)
    where not allocations.is_deleted
        and allocations.product_category is not null

),

combined as (

    select
        coalesce(contracted.provider_agb, deliveries.provider_agb) as provider_agb,
        coalesce(contracted.product_category, deliveries.product_category) as product_category,
        coalesce(contracted.report_month, deliveries.report_month) as report_month,
        contracted.provider_agb is not null as is_expected,
        deliveries.provider_agb is not null as is_delivered,
        deliveries.waiting_weeks,
        deliveries.waiting_count,
        deliveries.is_capacity_open,
        deliveries.source_file

    from contracted
    full outer join deliveries
        on deliveries.provider_agb = contracted.provider_agb
        and deliveries.product_category = contracted.product_category
        and deliveries.report_month = contracted.report_month

)

select * from combined
