{#- The municipal team against specialist care, per municipality × year (docs/contract.md §3):
    how many youths the team helps itself, how many go on to specialist care and after how long,
    and how many reach specialist care without the team. Paths per youth:
    int_team_paths_classified. -#}

with

paths as (

    select * from {{ ref('int_team_paths_classified') }}

),

counted as (

    select
        municipality_code,
        year,
        count(distinct case when path = 'team_only' then client_key end) as youths_team_only,
        count(distinct case when path = 'team_then_specialist' then client_key end)
            as youths_team_then_specialist,
        {{ percentile_cont('days_team_to_specialist', 0.5) }} as median_days_team_to_specialist,
        count(distinct case when path = 'specialist_then_team' then client_key end)
            as youths_specialist_then_team,
        count(distinct case when path = 'specialist_without_team' then client_key end)
            as youths_specialist_without_team,
        count(distinct client_key) as youths_total

    from paths
    group by 1, 2

),

final as (

    select
        cast(municipality_code as varchar) as municipality_code,
        cast(year as integer) as year,
        cast(youths_team_only as integer) as youths_team_only,
        cast(youths_team_then_specialist as integer) as youths_team_then_specialist,
        cast(round(median_days_team_to_specialist, 1) as decimal(9, 1))
            as median_days_team_to_specialist,
        cast(youths_specialist_then_team as integer) as youths_specialist_then_team,
        cast(youths_specialist_without_team as integer) as youths_specialist_without_team,
        cast(youths_team_only + youths_team_then_specialist + youths_specialist_then_team as integer)
            as youths_team,
        cast(
            youths_team_then_specialist
            + youths_specialist_then_team
            + youths_specialist_without_team as integer
        )
            as youths_specialist,
        cast(youths_total as integer) as youths_total,
        cast(round(100.0 * youths_team_only / youths_total, 2) as decimal(9, 2)) as team_share_pct

    from counted

)

select * from final
