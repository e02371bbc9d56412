{#- Findings on whole files and on the client's identity.

    From the file registry, every quarantined file, by the reason code ingestion recorded
    (`<code>: <message>`):
    file_malformed      not well-formed XML, DOCTYPE, missing or misplaced elements, bad values,
                        missing columns, empty files: the content cannot be read as delivered
    file_wrong_version  an iJw message of another release than 3.2
    csv_dialect         a CSV or XLSX outside the accepted dialects (not UTF-8, CSV syntax,
                        legacy .xls, unreadable workbook)
    file_quarantined    any other reason (unknown message or file, internal error)
    All are errors: the file's records are not in the warehouse until it is delivered again.

    invalid_bsn: an iJw record whose delivered BSN fails the 11-proef (loaded under the
    pseudonym of what was delivered, so the record is kept but cannot be matched to a person). -#}

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
        'Bestand niet ingelezen en in quarantaine gezet: ' || coalesce(quarantine_reason, 'reden onbekend')
            as message

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

)

select * from file_findings
union all
select * from invalid_bsns
