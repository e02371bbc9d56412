{#- The two month-of-year profiles of the forecast (docs/forecast.md steps 1b and 1c) share how a
    category's index is shrunk towards the region's and how a provider's index mixes its
    categories; they differ in what is measured (cost per day, stock in care) and in the weight of
    the normalisation (days of the month, or none). -#}

{#- A SELECT of product_category × month_of_year → raw_index, own_weight from `ratios`
    (product_category, with the region as '*'; service_month; ratio: the month against its
    centred level; `evidence`: what the ratio was measured on, lines or allocations):
    - raw_index: the mean ratio of the category's months of that month of the year;
    - own_weight: how far the category's own index is trusted against the region's, the
      empirical-Bayes weight between² / (between² + noise² / years):
      - noise²: the variance of the category's ratios around their month-of-year means, over the
        months of the year measured in more than one year (pooled over the twelve);
      - between²: how far the category's indices lie from the region's beyond that noise: the
        mean over the months of the year of (index − region's index)² − noise² / years, at
        least 0.
      So a category that differs from the region steadily (residential care without the summer
      dip of ambulant care) keeps its own profile even on few lines, and one that differs only
      by noise takes the region's. Where no month of the year has been measured twice the noise
      is not known, and the weight is evidence / (evidence + `shrinkage`) (the lines rule). -#}
{% macro month_of_year_shrinkage(ratios, evidence, shrinkage) -%}
    with

    by_month_of_year as (

        select
            product_category,
            cast(extract(month from service_month) as integer) as month_of_year,
            avg(ratio) as raw_index,
            count(*) as years,
            sum({{ evidence }}) as evidence

        from {{ ratios }}
        group by product_category, extract(month from service_month)

    ),

    noise as (

        select
            by_month_of_year.product_category,
            sum(power({{ ratios }}.ratio - by_month_of_year.raw_index, 2))
            / nullif(count(*) - count(distinct by_month_of_year.month_of_year), 0) as variance

        from {{ ratios }}
        inner join by_month_of_year
            on by_month_of_year.product_category = {{ ratios }}.product_category
            and by_month_of_year.month_of_year = extract(month from {{ ratios }}.service_month)
        where by_month_of_year.years > 1
        group by by_month_of_year.product_category

    ),

    between_categories as (

        select
            own.product_category,
            greatest(
                avg(power(own.raw_index - region.raw_index, 2) - noise.variance / own.years), 0
            ) as variance

        from by_month_of_year as own
        inner join noise
            on noise.product_category = own.product_category
        inner join by_month_of_year as region
            on region.product_category = '*'
            and region.month_of_year = own.month_of_year
        group by own.product_category

    )

    select
        by_month_of_year.product_category,
        by_month_of_year.month_of_year,
        by_month_of_year.raw_index,
        case
            when noise.variance is null
                then by_month_of_year.evidence * 1.0 / (by_month_of_year.evidence + {{ shrinkage }})
            when between_categories.variance + noise.variance / by_month_of_year.years = 0
                then 1.0
            else between_categories.variance
                / (between_categories.variance + noise.variance / by_month_of_year.years)
        end as own_weight

    from by_month_of_year
    left join noise
        on noise.product_category = by_month_of_year.product_category
    left join between_categories
        on between_categories.product_category = by_month_of_year.product_category
{%- endmacro %}

{#- A SELECT of product_category × month_of_year → month_index, for every category of
    `categories` and the region ('*'). `month_of_year` (from month_of_year_shrinkage) holds
    raw_index and own_weight per product_category (the region as '*') and month_of_year; a
    category's index is own_weight × its raw index + (1 − own_weight) × the region's, the
    region's where the category has none, 1 where neither has. The twelve indices are normalised
    to a mean of 1 weighted by `weight` (an expression on `calendar_months`: month_of_year 1-12). -#}
{% macro category_month_index(month_of_year, categories, calendar_months, weight) -%}
    select
        product_category,
        month_of_year,
        index_unnormalised
        * sum(normalisation_weight) over (partition by product_category)
        / sum(index_unnormalised * normalisation_weight) over (partition by product_category)
            as month_index

    from (

        select
            {{ categories }}.product_category,
            {{ calendar_months }}.month_of_year,
            {{ weight }} as normalisation_weight,
            coalesce(
                own.own_weight * own.raw_index
                + (1 - own.own_weight) * coalesce(region.raw_index, 1.0),
                region.raw_index,
                1.0
            ) as index_unnormalised

        from {{ categories }}
        cross join {{ calendar_months }}
        left join {{ month_of_year }} as own
            on own.product_category = {{ categories }}.product_category
            and own.month_of_year = {{ calendar_months }}.month_of_year
        left join {{ month_of_year }} as region
            on region.product_category = '*'
            and region.month_of_year = {{ calendar_months }}.month_of_year

        union all

        select
            '*' as product_category,
            {{ calendar_months }}.month_of_year,
            {{ weight }} as normalisation_weight,
            coalesce(region.raw_index, 1.0) as index_unnormalised

        from {{ calendar_months }}
        left join {{ month_of_year }} as region
            on region.product_category = '*'
            and region.month_of_year = {{ calendar_months }}.month_of_year

    ) as shrunk
{%- endmacro %}

{#- A SELECT of provider_agb × month_of_year → month_index: the category indices
    (`category_index`, from category_month_index) weighted by the provider's `provider_weights`
    (provider_agb, product_category, weight; null weights ignored), else the region's. -#}
{% macro provider_month_index(providers, calendar_months, provider_weights, category_index) -%}
    select
        {{ providers }}.provider_agb,
        {{ calendar_months }}.month_of_year,
        coalesce(
            sum({{ provider_weights }}.weight * category.month_index),
            max(region.month_index)
        ) as month_index

    from {{ providers }}
    cross join {{ calendar_months }}
    left join {{ provider_weights }}
        on {{ provider_weights }}.provider_agb = {{ providers }}.provider_agb
        and {{ provider_weights }}.weight is not null
    left join {{ category_index }} as category
        on category.product_category = {{ provider_weights }}.product_category
        and category.month_of_year = {{ calendar_months }}.month_of_year
    left join {{ category_index }} as region
        on region.product_category = '*'
        and region.month_of_year = {{ calendar_months }}.month_of_year
    group by {{ providers }}.provider_agb, {{ calendar_months }}.month_of_year
{%- endmacro %}
