{#- The two month-of-year profiles of the forecast (docs/forecast.md steps 1b and 1c) share how a
    category's index is shrunk towards the region's and how a provider's index mixes its
    categories; they differ in what is measured (cost per day, stock in care) and in the weight of
    the normalisation (days of the month, or none). -#}

{#- A SELECT of product_category × month_of_year → month_index, for every category of
    `categories` and the region ('*'). `month_of_year` holds raw_index and the evidence behind it
    (column `evidence`) per product_category (the region as '*') and month_of_year; a category's
    index is shrunk towards the region's with weight evidence / (evidence + `shrinkage`), the
    region's where the category has none, 1 where neither has. The twelve indices are normalised
    to a mean of 1 weighted by `weight` (an expression on `calendar_months`: month_of_year 1-12). -#}
{% macro category_month_index(month_of_year, categories, calendar_months, evidence, shrinkage, weight) -%}
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
                own.{{ evidence }} * 1.0 / (own.{{ evidence }} + {{ shrinkage }}) * own.raw_index
                + {{ shrinkage }} * 1.0 / (own.{{ evidence }} + {{ shrinkage }})
                * coalesce(region.raw_index, 1.0),
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
