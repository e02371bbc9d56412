{#- Divides whole cents by a key so that the parts add up exactly to the total (largest
    remainder). `to_divide`: a relation with municipality_code, key_cents, key_region_cents (the
    key as the exact fraction key_cents / key_region_cents, key_region_cents > 0 and the sum of
    key_cents within the partition) and total_cents (the amount to divide, in whole cents, the
    same within the partition). Each row gets floor(key × total) in whole cents; the cents left
    over go one each to the largest remainders. Exact integer
    arithmetic, no floating point. Returns every column of `to_divide` plus `cents`. `tie_break`:
    the order among equal remainders (default municipality_code ascending). -#}
{% macro largest_remainder_cents(to_divide, partition_by, tie_break='municipality_code') -%}
    select
        * exclude (floor_cents, cents_left, remainder_rank),
        floor_cents + case when remainder_rank <= cents_left then 1 else 0 end as cents

    from (

        select
            *,
            total_cents - sum(floor_cents) over (partition by {{ partition_by }}) as cents_left,
            row_number() over (
                partition by {{ partition_by }}
                order by key_cents * total_cents - floor_cents * key_region_cents desc, {{ tie_break }}
            ) as remainder_rank

        from (

            select
                *,
                -- floor division (DuckDB's // truncates towards zero); the remainder is then
                -- 0 ≤ r < key_region_cents
                key_cents * total_cents // key_region_cents
                - case when key_cents * total_cents % key_region_cents < 0 then 1 else 0 end
                    as floor_cents

            from {{ to_divide }}

        ) as floored

    ) as ranked
{%- endmacro %}
