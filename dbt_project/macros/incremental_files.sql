{#- Incremental intermediate models follow the files that arrived since they were last built.

    Every landed file has an `ingested_seq` in raw.file_registry, and every raw row carries its
    file_id. An incremental model keeps, in `intermediate.incremental_watermarks`, the highest
    `ingested_seq` it has been built through; the files above it are the ones it has not seen
    yet. The watermark is written by a post-hook inside the model's own transaction, so it moves
    only with the rows it describes: a model that fails keeps its watermark and the next run
    takes the same files again. A full build (first run, --full-refresh) writes it too.

    Without the watermark table, or with a watermark above the registry (a registry that
    started over), every file counts as new: the model recomputes everything, which is slower
    but never wrong.

    A model reads its changed rows from an upstream model (watermark_upstream), so it never goes
    past that model's watermark: built on its own (a selection, one asset in the Dagster UI)
    while its upstream lags behind, it takes only the files the upstream already holds and
    leaves the rest for a later run, instead of marking files done whose rows it never saw.
    fct_invoice_lines writes a watermark too, for the models that follow it. -#}

{% macro watermark_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='intermediate',
                                  identifier='incremental_watermarks')) }}
{%- endmacro %}


{#- on-run-start: the table must exist before any model reads it. -#}
{% macro create_watermark_table() -%}
    create schema if not exists {{ watermark_relation().include(identifier=false) }};
    create table if not exists {{ watermark_relation() }} (
        model_name varchar primary key,
        through_seq bigint not null,
        built_at timestamp not null
    )
{%- endmacro %}


{#- The registry's last ingested_seq: what a build that finishes now has seen. -#}
{% macro registry_through_seq() -%}
    (select coalesce(max(ingested_seq), 0) from {{ source('ingest', 'file_registry') }})
{%- endmacro %}


{#- This model's watermark, or -1 (every file) when it has none or it is past the registry. -#}
{% macro watermark_of_this() -%}
    coalesce((
        select max(through_seq)
        from {{ watermark_relation() }}
        where model_name = '{{ this.identifier }}'
          and through_seq <= {{ registry_through_seq() }}
    ), -1)
{%- endmacro %}


{#- The model whose rows an incremental model takes its changes from (none: the raw tables). -#}
{% macro watermark_upstream(model_name) -%}
    {%- set upstreams = {
        'int_invoice_lines_matched': 'fct_invoice_lines',
        'int_care_months_netted': 'fct_invoice_lines',
        'int_line_findings_detected': 'int_invoice_lines_matched',
        'int_declaration_findings_detected': 'int_invoice_lines_matched',
    } -%}
    {{ return(upstreams.get(model_name)) }}
{%- endmacro %}


{#- How far this build goes: the registry's end, but not past the upstream model's watermark
    (an upstream without one was built by an earlier version in this same run: the registry). -#}
{% macro build_through_seq() -%}
    {%- set upstream = watermark_upstream(this.identifier) -%}
    {%- if upstream -%}
    least({{ registry_through_seq() }}, coalesce((
        select max(through_seq) from {{ watermark_relation() }} where model_name = '{{ upstream }}'
    ), {{ registry_through_seq() }}))
    {%- else -%}
        {{ registry_through_seq() }}
    {%- endif -%}
{%- endmacro %}


{#- A SELECT of the file_ids this model has not been built with yet. -#}
{% macro files_since_last_build() -%}
    select file_id
    from {{ source('ingest', 'file_registry') }}
    where ingested_seq > {{ watermark_of_this() }}
      and ingested_seq <= {{ build_through_seq() }}
{%- endmacro %}


{#- post-hook of every incremental model that keeps a watermark. -#}
{% macro advance_watermark() -%}
    insert or replace into {{ watermark_relation() }} (model_name, through_seq, built_at)
    select '{{ this.identifier }}', {{ build_through_seq() }}, current_timestamp
{%- endmacro %}


{#- The JW323 lines whose matched row (int_invoice_lines_matched) may differ from the stored one
    because of files this model has not seen: lines of those files, lines a JW325 in them
    rejected, debits a credit in them names, lines on an allocation a JW301 in them changed, and
    every line when a new product list arrived (the contract tariff). Lines that no new file
    touches keep every input their row was computed from: an invoice line, its file and its
    BSN check never change. Returns a SELECT of invoice_line_id (may repeat). -#}
{% macro invoice_lines_touched() -%}
    with new_files as (

        {{ files_since_last_build() }}

    ),

    lines as (

        select invoice_line_id, provider_agb, reference_number, municipality_code,
               allocation_number, debit_credit, previous_reference_number, file_id,
               rejection_file_id
        from {{ ref('fct_invoice_lines') }}

    ),

    new_credits as (

        select distinct provider_agb, previous_reference_number as reference_number
        from lines
        where debit_credit = 'C'
          and previous_reference_number is not null
          and file_id in (select file_id from new_files)

    ),

    changed_allocations as (

        select distinct municipality_code, allocation_number
        from {{ ref('stg_ijw__allocations') }}
        where file_id in (select file_id from new_files)

    )

    select invoice_line_id
    from lines
    where file_id in (select file_id from new_files)
       or rejection_file_id in (select file_id from new_files)
       or exists (
           select 1 from {{ ref('stg_reference__products') }} as products
           where products.file_id in (select file_id from new_files)
       )

    union all

    select lines.invoice_line_id
    from lines
    inner join new_credits
        on new_credits.provider_agb = lines.provider_agb
        and new_credits.reference_number = lines.reference_number

    union all

    select lines.invoice_line_id
    from lines
    inner join changed_allocations
        on changed_allocations.municipality_code = lines.municipality_code
        and changed_allocations.allocation_number = lines.allocation_number
{%- endmacro %}


{#- The care-month keys (client × provider × product × service month) whose accepted lines
    changed since this model was built: lines of new files, or lines a new JW325 rejected.
    Returns a SELECT of the four key columns (distinct). -#}
{% macro care_months_touched() -%}
    with new_files as (

        {{ files_since_last_build() }}

    )

    select distinct client_key, provider_agb, product_code, service_month
    from {{ ref('fct_invoice_lines') }}
    where service_month is not null
      and (file_id in (select file_id from new_files)
           or rejection_file_id in (select file_id from new_files))
{%- endmacro %}


{#- The providers whose declaration findings can have changed since this model was built: every
    rule of int_declaration_findings_detected compares lines of one provider only, so a provider
    with a line in a new file, or a line a new JW325 rejected, is judged again in full; the
    others keep their findings. Returns a SELECT of provider_agb (distinct). -#}
{% macro invoice_providers_touched() -%}
    with new_files as (

        {{ files_since_last_build() }}

    )

    select distinct provider_agb
    from {{ ref('fct_invoice_lines') }}
    where file_id in (select file_id from new_files)
       or rejection_file_id in (select file_id from new_files)
{%- endmacro %}


{#- Whether an existing relation already has a column (lower-case name): an incremental model
    whose table was built before a column was added (on_schema_change append_new_columns) reads
    its own old rows without it (mart_forecast_history). -#}
{% macro relation_has_column(relation, column_name) -%}
    {%- set columns = adapter.get_columns_in_relation(relation) -%}
    {%- set names = columns | map(attribute='name') | map('lower') | list -%}
    {{ return(column_name | lower in names) }}
{%- endmacro %}
