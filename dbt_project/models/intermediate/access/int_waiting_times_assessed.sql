{#- Every delivered waiting-time line (docs/contract.md §2.7), judged, with the current delivery
    per provider × product category × month.

    `invalid_reason` names what is wrong with a line: `reference_date_out_of_range` (peildatum
    before `access_min_date` or after the reporting date: the month it reports on cannot be
    trusted, so the line is used nowhere), `waiting_weeks_out_of_range` (negative or above
    `waiting_weeks_max`) and `waiting_count_negative` (the value is shown as empty, the rest of
    the line counts). Every such line is a dq_findings row. When a provider delivers a month
    twice, the line of the latest file counts (highest ingested_seq, then the latest peildatum,
    then the last line). -#}

with

deliveries as (

    select * from {{ ref('stg_beschikbaarheid__waiting_times') }}

),

files as (

    select file_id, landed_path, ingested_seq from {{ ref('stg_ingest__files') }}

),

judged as (

    select
        deliveries.*,
        files.landed_path as source_file,
        files.ingested_seq,
        deliveries.reference_date < cast('{{ var("access_min_date") }}' as date)
        or deliveries.reference_date > {{ as_of_date() }} as is_date_out_of_range,
        deliveries.waiting_weeks < 0
        or deliveries.waiting_weeks > {{ var('waiting_weeks_max') }} as is_weeks_out_of_range,
        deliveries.waiting_count < 0 as is_count_negative

    from deliveries
    left join files
        on files.file_id = deliveries.file_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by provider_agb, product_category, report_month, is_date_out_of_range
            order by ingested_seq desc, reference_date desc, file_id desc, record_position desc
        ) as delivery_rank

    from judged

),

final as (

    select
        file_id,
        record_position,
        source_file,
        provider_agb,
        product_category,
        report_month,
        reference_date,
        case when not coalesce(is_weeks_out_of_range, false) then waiting_weeks end as waiting_weeks,
        case when not coalesce(is_count_negative, false) then waiting_count end as waiting_count,
        is_capacity_open,
        waiting_weeks as delivered_waiting_weeks,
        waiting_count as delivered_waiting_count,
        concat_ws(
            ', ',
            case when is_date_out_of_range then 'reference_date_out_of_range' end,
            case when is_weeks_out_of_range then 'waiting_weeks_out_of_range' end,
            case when is_count_negative then 'waiting_count_negative' end
        ) as invalid_reasons,
        not coalesce(is_date_out_of_range, false) and delivery_rank = 1 as is_current

    from ranked

)

select * from final
