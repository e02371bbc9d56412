{#- Woonplaatsbeginsel: care invoiced to a municipality other than the one that allocated it
    (docs/contract.md §3, mart_residence_signals `invoice_other_than_allocation`). One row per
    invoiced municipality × client × provider × ToewijzingNummer × service_month.

    A JW323 line names its allocation by ToewijzingNummer, which the allocating municipality
    issues: a line matches an allocation of its own municipality with that number, for the same
    provider and client (int_invoice_lines_matched; deleted allocations do not count). The signal:
    accepted lines (not rejected by a JW325) whose number matches no allocation of the invoiced
    municipality but does match a current, not deleted allocation of another municipality for the
    same provider and client, netting above zero for the month (a credit that cancels them ends
    the signal). The invoiced municipality paid for care another municipality allocated. Such a
    line is also a 9338 (no matching allocation) for the invoiced municipality. -#}

with

allocations as (

    select municipality_code, allocation_number, provider_agb, client_key
    from {{ ref('int_allocations_resolved') }}
    where not is_deleted
        and client_key is not null

),

accepted_lines as (

    select
        municipality_code,
        provider_agb,
        client_key,
        allocation_number,
        service_month,
        reference_number,
        file_id,
        amount_eur

    from {{ ref('fct_invoice_lines') }}
    where not is_rejected
        and client_key is not null
        and allocation_number is not null
        and service_month is not null

),

misdirected_lines as (

    select
        lines.*,
        other.municipality_code as allocation_municipality_code

    from accepted_lines as lines
    inner join allocations as other
        on other.allocation_number = lines.allocation_number
        and other.provider_agb = lines.provider_agb
        and other.client_key = lines.client_key
        and other.municipality_code <> lines.municipality_code
    left join allocations as own
        on own.municipality_code = lines.municipality_code
        and own.allocation_number = lines.allocation_number
        and own.provider_agb = lines.provider_agb
        and own.client_key = lines.client_key
    where own.allocation_number is null

),

files as (

    select file_id, landed_path from {{ ref('stg_ingest__files') }}

),

final as (

    select
        misdirected_lines.municipality_code,
        misdirected_lines.client_key,
        misdirected_lines.provider_agb,
        misdirected_lines.allocation_number,
        misdirected_lines.allocation_municipality_code,
        misdirected_lines.service_month,
        cast(sum(misdirected_lines.amount_eur) as decimal(18, 2)) as net_amount_eur,
        count(*) as lines,
        string_agg(misdirected_lines.reference_number, ', ' order by misdirected_lines.reference_number)
            as reference_numbers,
        min(files.landed_path) as source_file

    from misdirected_lines
    left join files
        on files.file_id = misdirected_lines.file_id
    group by
        misdirected_lines.municipality_code,
        misdirected_lines.client_key,
        misdirected_lines.provider_agb,
        misdirected_lines.allocation_number,
        misdirected_lines.allocation_municipality_code,
        misdirected_lines.service_month
    having sum(misdirected_lines.amount_eur) > 0

)

select * from final
