{#- Findings on the two optional delivery sources (docs/contract.md §2.6, §2.7, §3): unusable
    lines of the municipal team's exports and of providers' waiting-time deliveries, and
    waiting-time deliveries owed under the contract that did not arrive.

    invalid_bsn                  (error) a team line whose BSN fails the 11-proef
    team_registration_invalid    (warn)  a team line with an unknown municipality, a start out of
                                         range or an end before its start
    waiting_time_invalid         (warn)  a waiting-time line with a peildatum out of range, waiting
                                         weeks out of range or a negative number waiting
    waiting_times_not_delivered  (warn)  an owed provider × category × month without a delivery
                                         (int_waiting_time_months_expected)
    Only the current line of a registration or of a provider's month is judged: a corrected
    re-delivery makes its finding disappear. -#}

with

team_lines as (

    select * from {{ ref('int_team_registrations_assessed') }}
    where is_current and invalid_reason is not null

),

team_findings as (

    select
        case when invalid_reason = 'bsn_invalid' then 'invalid_bsn' else 'team_registration_invalid' end
            as rule_id,
        case when invalid_reason = 'bsn_invalid' then 'error' else 'warn' end as severity,
        cast(null as varchar) as provider_agb,
        municipality_code,
        source_file,
        'regel ' || cast(record_position as varchar) as record_ref,
        'Lokaal team: '
        || case invalid_reason
            when 'bsn_invalid' then 'het BSN voldoet niet aan de elfproef'
            when 'unknown_municipality'
                then 'onbekende gemeentecode ' || coalesce(municipality_code, '(leeg)')
            when 'start_out_of_range'
                then 'startdatum ' || cast(start_date as varchar)
                    || ' ligt voor ' || '{{ var("access_min_date") }}' || ' of na de peildatum'
            when 'end_before_start' then 'einddatum ' || cast(end_date as varchar)
                || ' ligt voor startdatum ' || cast(start_date as varchar)
        end
        || '; de registratie telt niet mee in de cijfers over het lokaal team.' as message

    from team_lines

),

waiting_lines as (

    select * from {{ ref('int_waiting_times_assessed') }}
    where invalid_reasons <> ''
        and (is_current or invalid_reasons like '%reference_date_out_of_range%')

),

waiting_findings as (

    select
        'waiting_time_invalid' as rule_id,
        'warn' as severity,
        provider_agb,
        cast(null as varchar) as municipality_code,
        source_file,
        'regel ' || cast(record_position as varchar) as record_ref,
        'Wachttijden productcategorie ' || product_category || ': '
        || concat_ws(
            ', ',
            case when invalid_reasons like '%reference_date_out_of_range%'
                    then 'peildatum ' || cast(reference_date as varchar)
                        || ' ligt voor '
                        || '{{ var("access_min_date") }}'
                        || ' of na de peildatum van de rapportage'
            end,
            case when invalid_reasons like '%waiting_weeks_out_of_range%'
                    then 'wachttijd '
                        || cast(delivered_waiting_weeks as varchar)
                        || ' weken is negatief of onwaarschijnlijk'
            end,
            case when invalid_reasons like '%waiting_count_negative%'
                    then 'aantal wachtenden ' || cast(delivered_waiting_count as varchar) || ' is negatief'
            end
        )
        || '; die waarde telt niet mee.' as message

    from waiting_lines

),

missing_deliveries as (

    select
        'waiting_times_not_delivered' as rule_id,
        'warn' as severity,
        provider_agb,
        cast(null as varchar) as municipality_code,
        cast(null as varchar) as source_file,
        provider_agb
        || '|'
        || product_category
        || '|'
        || substr(cast(report_month as varchar), 1, 7) as record_ref,
        'Wachttijden (Beschikbaarheidswijzer) voor productcategorie ' || product_category
        || ' over ' || substr(cast(report_month as varchar), 1, 7)
        || ' niet aangeleverd, terwijl de aanbieder die volgens contract maandelijks levert.' as message

    from {{ ref('int_waiting_time_months_expected') }}
    where is_expected and not is_delivered

)

select * from team_findings
union all
select * from waiting_findings
union all
select * from missing_deliveries
