{#- Settling by the T-2 key moves money between the municipalities of a region: per region and
    year the settlements add up to zero, within a cent per municipality for rounding. One row per
    region-year that does not balance. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'mart_settlement'}}}) }}

select
    municipalities.region,
    settlement.year,
    sum(settlement.settlement_eur) as balance_eur

from {{ ref('mart_settlement') }} as settlement
inner join {{ ref('municipalities') }} as municipalities
    on municipalities.municipality_code = settlement.municipality_code
where settlement.settlement_eur is not null
group by municipalities.region, settlement.year
having abs(sum(settlement.settlement_eur)) > 0.01 * count(*)
