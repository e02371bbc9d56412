{#- Findings on whole files and on the client's identity.

    From the file registry, every quarantined file, by the reason code ingestion recorded
    (`<code>: <message>`):
    file_malformed      not well-formed XML, DOCTYPE, missing or misplaced elements, bad values,
                        missing columns, empty files: the content cannot be read as delivered
    file_wrong_version  an iJw message of another release than 3.2
    csv_dialect         a CSV or XLSX outside the accepted dialects (not UTF-8, CSV syntax,
                        legacy .xls, unreadable workbook)
    file_quarantined    any other reason (unknown message or file, a conflicting re-delivery,
                        internal error), and a file an operator took out again after it was
                        loaded (`jeugdhulp quarantine`, reason `operator: ...`)
    All are errors: the file's records are not in the warehouse until it is delivered again.

    invalid_bsn: an iJw record whose delivered BSN fails the 11-proef (loaded under the
    pseudonym of what was delivered, so the record is kept but cannot be matched to a person).

    Checks on every line, rebuilt in full each run (cheap, and a finding disappears as soon as
    what it waits for arrives):
    implausible_value          a JW323/JW325 line whose amount, volume or tariff is beyond the
                               plausible bounds (macros/plausibility.sql, docs/contract.md §2.1);
                               staging leaves the line out, so it is in no sum
    9319                       a JW323 debit whose ProductPeriode spans calendar months: it cannot
                               lie within one DeclaratiePeriode
    jw325_unknown_declaration  a JW325 rejects a line of a declaration no JW323 was received for
                               (provider and DeclaratieNummer) -#}

with

files as (

    select * from {{ ref('stg_ingest__files') }}

),

quarantined as (

    select
        *,
        lower(trim(split_part(coalesce(quarantine_reason, ''), ':', 1))) as reason_code
    from files
    where status = 'quarantined'

),

file_findings as (

    select
        case
            when reason_code in ('wrong_version', 'version_mismatch') then 'file_wrong_version'
            when reason_code in ('not_utf8', 'csv_syntax', 'unsupported_format', 'unreadable_xlsx')
                then 'csv_dialect'
            when reason_code in (
                    'malformed_xml', 'forbidden_dtd', 'missing_element', 'misplaced_element',
                    'invalid_message', 'message_code_mismatch', 'empty_file', 'bad_value',
                    'missing_value', 'missing_columns', 'duplicate_columns', 'no_rows'
                )
                then 'file_malformed'
            else 'file_quarantined'
        end as rule_id,
        'error' as severity,
        cast(null as varchar) as provider_agb,
        cast(null as varchar) as municipality_code,
        landed_path as source_file,
        file_id as record_ref,
        case
            -- taken out again after it was loaded (`jeugdhulp quarantine`, reason `operator: ...`)
            when reason_code = 'operator'
                then 'Bestand na inlezen door een beheerder uit het warehouse gehaald: '
                    || trim(substr(quarantine_reason, strpos(quarantine_reason, ':') + 1))
            else 'Bestand niet ingelezen en in quarantaine gezet: '
                || coalesce(quarantine_reason, 'reden onbekend')
        end as message

    from quarantined

),

ijw_records as (

    select
        'JW315' as message_type, file_id, provider_agb, municipality_code, provider_reference as record_ref,
        is_bsn_valid
    from {{ ref('stg_ijw__requests') }}
    union all
    select 'JW301' as message_type, file_id, provider_agb, municipality_code, allocation_number, is_bsn_valid
    from {{ ref('stg_ijw__allocations') }}
    union all
    select 'JW305' as message_type, file_id, provider_agb, municipality_code, allocation_number, is_bsn_valid
    from {{ ref('stg_ijw__starts') }}
    union all
    select 'JW307' as message_type, file_id, provider_agb, municipality_code, allocation_number, is_bsn_valid
    from {{ ref('stg_ijw__stops') }}
    union all
    select 'JW323' as message_type, file_id, provider_agb, municipality_code, reference_number, is_bsn_valid
    from {{ ref('stg_ijw__invoice_lines') }}
    union all
    select 'JW325' as message_type, file_id, provider_agb, municipality_code, reference_number, is_bsn_valid
    from {{ ref('stg_ijw__rejected_lines') }}

),

invalid_bsns as (

    select
        'invalid_bsn' as rule_id,
        'error' as severity,
        records.provider_agb,
        records.municipality_code,
        files.landed_path as source_file,
        records.record_ref,
        records.message_type || ': het BSN van de cliënt voldoet niet aan de elfproef.' as message

    from ijw_records as records
    left join files
        on files.file_id = records.file_id
    where records.is_bsn_valid = false

),

implausible_raw_lines as (

    -- every JW323/JW325 line outside the plausible bounds (macros/plausibility.sql); staging
    -- leaves these lines out, so they are read from raw
    select
        'JW323' as message_type, file_id, {{ to_agb_code('sender') }} as provider_agb,
        {{ to_municipality_code('receiver') }} as municipality_code, reference_number,
        amount_cents, volume, tariff_cents
    from {{ source('ijw', 'invoice_lines') }}
    where not {{ is_plausible_line() }}
    union all
    select
        'JW325' as message_type, file_id, {{ to_agb_code('receiver') }} as provider_agb,
        {{ to_municipality_code('sender') }} as municipality_code, reference_number,
        amount_cents, volume, tariff_cents
    from {{ source('ijw', 'rejected_lines') }}
    where not {{ is_plausible_line() }}

),

implausible_values as (

    select
        'implausible_value' as rule_id,
        'error' as severity,
        lines.provider_agb,
        lines.municipality_code,
        files.landed_path as source_file,
        trim(lines.reference_number) as record_ref,
        lines.message_type || ': onwaarschijnlijke waarde ('
        || concat_ws(
            ', ',
            case
                when abs(lines.amount_cents) > {{ var('dq_max_amount_cents', 99999999) }}
                    then 'IngediendBedrag ' || cast(lines.amount_cents as varchar) || ' cent'
            end,
            case
                when abs(lines.volume) > {{ var('dq_max_volume', 99999999) }}
                    then 'GeleverdVolume ' || cast(lines.volume as varchar)
            end,
            case
                when abs(lines.tariff_cents) > {{ var('dq_max_tariff_cents', 99999999) }}
                    then 'ProductTarief ' || cast(lines.tariff_cents as varchar) || ' cent'
            end
        )
        || '); de prestatie telt in geen enkel totaal mee.' as message

    from implausible_raw_lines as lines
    left join files
        on files.file_id = lines.file_id

),

spanning_periods as (

    -- 9319: a ProductPeriode over more than one calendar month cannot lie within one
    -- DeclaratiePeriode (a calendar month); debits only, a credit repeats its debit
    select
        '9319' as rule_id,
        'error' as severity,
        lines.provider_agb,
        lines.municipality_code,
        files.landed_path as source_file,
        lines.reference_number as record_ref,
        'ProductPeriode ' || cast(lines.period_start as varchar) || ' t/m '
        || cast(lines.period_end as varchar)
        || ' valt niet binnen één kalendermaand, dus niet geheel binnen een DeclaratiePeriode.'
            as message

    from {{ ref('stg_ijw__invoice_lines') }} as lines
    left join files
        on files.file_id = lines.file_id
    where
        lines.debit_credit = 'D'
        and {{ month_start('lines.period_start') }} <> {{ month_start('lines.period_end') }}

),

declared as (

    -- every declaration received, plausible lines or not
    select distinct
        {{ to_agb_code('sender') }} as provider_agb,
        trim(declaration_number) as declaration_number
    from {{ source('ijw', 'invoice_lines') }}

),

unknown_declarations as (

    select
        'jw325_unknown_declaration' as rule_id,
        'error' as severity,
        rejected.provider_agb,
        rejected.municipality_code,
        files.landed_path as source_file,
        rejected.reference_number as record_ref,
        'JW325 wijst prestatie ' || coalesce(rejected.reference_number, '(leeg)')
        || ' af van declaratie ' || coalesce(rejected.declaration_number, '(leeg)')
        || ', maar die declaratie (JW323) van deze aanbieder is niet ontvangen.' as message

    from {{ ref('stg_ijw__rejected_lines') }} as rejected
    left join declared
        on declared.provider_agb = rejected.provider_agb
        and declared.declaration_number = rejected.declaration_number
    left join files
        on files.file_id = rejected.file_id
    where declared.declaration_number is null

)

select * from file_findings
union all
select * from invalid_bsns
union all
select * from implausible_values
union all
select * from spanning_periods
union all
select * from unknown_declarations
