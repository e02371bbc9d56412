{#- Woonplaatsbeginsel findings, one per row, in the columns of marts.dq_findings plus the client's
    pseudonym, the signal and its month (docs/data_quality.md, "Woonplaatsbeginsel"). All warn:
    nothing is rejected, a controller looks at the case. record_ref is the client's pseudonym;
    the message names the months, allocations, providers and amounts. Intern only: dq_findings
    is published as counts per rule without the residence rules (jeugdhulp/publish/catalogue.py).

    - residence_billed_to_two (months_billed_to_two): one row per client × service_month ×
      municipality that shares billed days of the month with another municipality
      (int_client_months_double_billed); month: the service month.
    - residence_overlapping_allocations (overlapping_allocations): one row per overlapping pair of
      allocations and side, so each of the two municipalities gets its own
      (int_allocations_overlapped); month: the first day both are valid.
    - residence_invoice_other_municipality (invoice_other_than_allocation): one row per invoiced
      municipality × client × provider × allocation × service_month (int_invoice_lines_misdirected);
      month: the service month.
    - residence_move_running_allocation (move_with_running_allocation): one row per allocation of
      the old municipality still valid on the day the client's first allocation from the new one
      starts, once the grace period has passed (int_allocations_overlapped); for the old
      municipality, month: the month of that first allocation's start (the move). -#}

with

accepted_lines as (

    select
        municipality_code,
        allocation_number,
        provider_agb,
        client_key,
        period_start,
        coalesce(period_end, {{ month_end('service_month') }}) as period_end,
        amount_eur

    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and client_key is not null
        and allocation_number is not null
        and period_start is not null

),

allocation_overlaps as (

    select * from {{ ref('int_allocations_overlapped') }}

),

files as (

    select file_id, landed_path from {{ ref('stg_ingest__files') }}

),

-- both sides of every overlapping pair that is no move
overlap_sides as (

    select
        client_key,
        overlap_start,
        overlap_end,
        municipality_code,
        allocation_number,
        provider_agb,
        product_code,
        start_date,
        end_date,
        file_id,
        later_municipality_code as other_municipality_code,
        later_allocation_number as other_allocation_number,
        later_provider_agb as other_provider_agb,
        later_product_code as other_product_code,
        later_start_date as other_start_date,
        later_end_date as other_end_date

    from allocation_overlaps
    where signal = 'overlapping_allocations'

    union all

    select
        client_key,
        overlap_start,
        overlap_end,
        later_municipality_code as municipality_code,
        later_allocation_number as allocation_number,
        later_provider_agb as provider_agb,
        later_product_code as product_code,
        later_start_date as start_date,
        later_end_date as end_date,
        later_file_id as file_id,
        municipality_code as other_municipality_code,
        allocation_number as other_allocation_number,
        provider_agb as other_provider_agb,
        product_code as other_product_code,
        start_date as other_start_date,
        end_date as other_end_date

    from allocation_overlaps
    where signal = 'overlapping_allocations'

),

overlap_amounts as (

    select
        sides.municipality_code,
        sides.allocation_number,
        sides.client_key,
        sides.other_municipality_code,
        sides.other_allocation_number,
        coalesce(sum(lines.amount_eur), 0) as invoiced_eur

    from overlap_sides as sides
    left join accepted_lines as lines
        on lines.municipality_code = sides.municipality_code
        and lines.allocation_number = sides.allocation_number
        and lines.provider_agb = sides.provider_agb
        and lines.client_key = sides.client_key
        and lines.period_end >= sides.overlap_start
        and (sides.overlap_end is null or lines.period_start <= sides.overlap_end)
    group by 1, 2, 3, 4, 5

),

overlapping_allocations as (

    select
        'residence_overlapping_allocations' as rule_id,
        'overlapping_allocations' as signal,
        sides.provider_agb,
        sides.municipality_code,
        files.landed_path as source_file,
        sides.client_key,
        {{ month_start('sides.overlap_start') }} as signal_month,
        'Woonplaatsbeginsel: cliënt ' || sides.client_key
        || ' heeft tegelijk toewijzingen van twee gemeenten: toewijzing ' || sides.allocation_number
        || ' van deze gemeente (aanbieder ' || sides.provider_agb || ', product '
        || coalesce(sides.product_code, '(leeg)') || ', ' || cast(sides.start_date as varchar) || ' t/m '
        || coalesce(cast(sides.end_date as varchar), 'open') || ') en toewijzing '
        || sides.other_allocation_number || ' van ' || sides.other_municipality_code || ' (aanbieder '
        || sides.other_provider_agb || ', product ' || coalesce(sides.other_product_code, '(leeg)') || ', '
        || cast(sides.other_start_date as varchar) || ' t/m '
        || coalesce(cast(sides.other_end_date as varchar), 'open') || '); beide geldig van '
        || cast(sides.overlap_start as varchar) || ' t/m '
        || coalesce(cast(sides.overlap_end as varchar), 'open')
        || '. Onder deze toewijzing gedeclareerd voor die periode: '
        || {{ dutch_amount('amounts.invoiced_eur') }} || ' euro.' as message

    from overlap_sides as sides
    inner join overlap_amounts as amounts
        on amounts.municipality_code = sides.municipality_code
        and amounts.allocation_number = sides.allocation_number
        and amounts.client_key = sides.client_key
        and amounts.other_municipality_code = sides.other_municipality_code
        and amounts.other_allocation_number = sides.other_allocation_number
    left join files
        on files.file_id = sides.file_id

),

-- per running allocation of the old municipality: the new municipality's first allocation
moves as (

    select
        client_key,
        municipality_code,
        allocation_number,
        provider_agb,
        product_code,
        end_date,
        file_id,
        later_municipality_code,
        move_date,
        first(later_allocation_number order by later_start_date, later_allocation_number)
            as later_allocation_number

    from allocation_overlaps
    where signal = 'move_with_running_allocation'
        and not is_pending
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9

),

move_amounts as (

    select
        moves.client_key,
        moves.municipality_code,
        moves.allocation_number,
        moves.later_municipality_code,
        coalesce(sum(lines.amount_eur), 0) as invoiced_eur

    from moves
    left join accepted_lines as lines
        on lines.municipality_code = moves.municipality_code
        and lines.allocation_number = moves.allocation_number
        and lines.provider_agb = moves.provider_agb
        and lines.client_key = moves.client_key
        and lines.period_end >= moves.move_date
    group by 1, 2, 3, 4

),

move_with_running_allocation as (

    select
        'residence_move_running_allocation' as rule_id,
        'move_with_running_allocation' as signal,
        moves.provider_agb,
        moves.municipality_code,
        files.landed_path as source_file,
        moves.client_key,
        {{ month_start('moves.move_date') }} as signal_month,
        'Woonplaatsbeginsel: cliënt ' || moves.client_key || ' heeft vanaf '
        || cast(moves.move_date as varchar) || ' een toewijzing van ' || moves.later_municipality_code
        || ' (' || moves.later_allocation_number || '), maar toewijzing ' || moves.allocation_number
        || ' van deze gemeente (aanbieder ' || moves.provider_agb || ', product '
        || coalesce(moves.product_code, '(leeg)') || ') loopt door tot '
        || coalesce(cast(moves.end_date as varchar), 'open (geen einddatum)')
        || '. Onder deze toewijzing gedeclareerd voor zorg vanaf die datum: '
        || {{ dutch_amount('amounts.invoiced_eur') }}
        || ' euro. Bij een verhuizing eindigt de toewijzing de dag ervoor (RedenWijziging 07).'
            as message

    from moves
    inner join move_amounts as amounts
        on amounts.client_key = moves.client_key
        and amounts.municipality_code = moves.municipality_code
        and amounts.allocation_number = moves.allocation_number
        and amounts.later_municipality_code = moves.later_municipality_code
    left join files
        on files.file_id = moves.file_id

),

billed_to_two as (

    select
        'residence_billed_to_two' as rule_id,
        'months_billed_to_two' as signal,
        provider_agb,
        municipality_code,
        cast(null as varchar) as source_file,
        client_key,
        service_month as signal_month,
        'Woonplaatsbeginsel: zorgmaand ' || strftime(service_month, '%Y-%m') || ' van cliënt '
        || client_key || ' is voor dezelfde dagen gedeclareerd bij deze gemeente ('
        || providers_text || '; netto ' || {{ dutch_amount('net_amount_eur') }}
        || ' euro) en bij ' || other_municipalities_text || '.' as message

    from {{ ref('int_client_months_double_billed') }}

),

invoice_other_municipality as (

    select
        'residence_invoice_other_municipality' as rule_id,
        'invoice_other_than_allocation' as signal,
        provider_agb,
        municipality_code,
        source_file,
        client_key,
        service_month as signal_month,
        'Woonplaatsbeginsel: aanbieder ' || provider_agb || ' declareerde zorgmaand '
        || strftime(service_month, '%Y-%m') || ' van cliënt ' || client_key
        || ' bij deze gemeente onder toewijzing ' || allocation_number || ' van '
        || allocation_municipality_code || ': ' || {{ dutch_amount('net_amount_eur') }} || ' euro ('
        || cast(lines as varchar) || ' regel(s): ' || reference_numbers || ').' as message

    from {{ ref('int_invoice_lines_misdirected') }}

),

all_findings as (

    select * from billed_to_two
    union all
    select * from overlapping_allocations
    union all
    select * from invoice_other_municipality
    union all
    select * from move_with_running_allocation

),

final as (

    select
        cast(rule_id as varchar) as rule_id,
        cast('warn' as varchar) as severity,
        cast(provider_agb as varchar) as provider_agb,
        cast(municipality_code as varchar) as municipality_code,
        cast(source_file as varchar) as source_file,
        cast(client_key as varchar) as record_ref,
        cast(message as varchar) as message,
        cast(client_key as varchar) as client_key,
        cast(signal as varchar) as signal,
        cast(signal_month as date) as signal_month

    from all_findings

)

select * from final
