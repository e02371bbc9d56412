{#- Dutch names for the codes the publication models show; the totals' codes get names too. -#}

{{ config(materialized='ephemeral') }}

with

municipalities as (

    select
        'municipality' as kind,
        cast(municipality_code as varchar) as code,
        cast(name as varchar) as label

    from {{ ref('municipalities') }}

),

providers as (

    select
        'provider' as kind,
        provider_agb as code,
        max(provider_name) as label

    from {{ ref('stg_reference__providers') }}
    where provider_agb is not null
    group by provider_agb

),

product_categories as (

    select
        'product_category' as kind,
        lpad(cast(product_category as varchar), 2, '0') as code,
        cast(description as varchar) as label

    from {{ ref('code_product_categories') }}

),

totals as (

    select
        labels.kind,
        labels.code,
        labels.label
    from (
        values
        ('municipality', 'regio', 'Regio (alle gemeenten)'),
        ('provider', 'totaal', 'Alle aanbieders'),
        ('product_category', 'totaal', 'Alle productcategorieën'),
        ('segment', 'totaal', 'Alle segmenten'),
        ('segment', 'onbekend', 'Segment onbekend'),
        ('segment', 'ambulant', 'Ambulante jeugdhulp'),
        ('segment', 'dagbehandeling', 'Dagbehandeling'),
        ('segment', 'dyslexie', 'Dyslexiezorg'),
        ('segment', 'ggz', 'Jeugd-ggz'),
        ('segment', 'maatwerk', 'Maatwerk'),
        ('segment', 'verblijf', 'Jeugdhulp met verblijf'),
        ('segment', 'vervoer', 'Vervoer'),
        ('month', 'jaar', 'Heel jaar'),
        ('month', '01', 'januari'),
        ('month', '02', 'februari'),
        ('month', '03', 'maart'),
        ('month', '04', 'april'),
        ('month', '05', 'mei'),
        ('month', '06', 'juni'),
        ('month', '07', 'juli'),
        ('month', '08', 'augustus'),
        ('month', '09', 'september'),
        ('month', '10', 'oktober'),
        ('month', '11', 'november'),
        ('month', '12', 'december')
    ) as labels (kind, code, label)

),

final as (

    select * from municipalities
    union all
    select * from providers
    union all
    select * from product_categories
    union all
    select * from totals

)

select * from final
