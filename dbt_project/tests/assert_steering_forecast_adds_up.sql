{#- A provider's year-end forecast is what was invoiced + what is still to come for past months +
    the projection of the months ahead (docs/forecast.md). One row per provider-year that differs. -#}
{{ config(severity='error') }}

select provider_agb, year, forecast_eur, invoiced_eur, outstanding_eur, projected_eur
from {{ ref('mart_budget_utilisation') }}
where forecast_eur <> invoiced_eur + outstanding_eur + projected_eur
