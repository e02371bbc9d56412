{#- The rows of the current snapshot of a reference table. Reference CSVs are full snapshots
    stored append-only under their file_id; the current one is the ingested file with the
    highest `ingested_seq` for its content type (raw_tables.py), then the latest `ingested_at`,
    then file_id as a deterministic tie-break. A later empty snapshot therefore empties the table. -#}
{% macro latest_file_rows(relation, file_registry, content_type) -%}
    select delivered.*
    from {{ relation }} as delivered
    where delivered.file_id = (
        select registry.file_id
        from {{ file_registry }} as registry
        where registry.content_type = '{{ content_type }}'
          and registry.status = 'ingested'
        order by
            registry.ingested_seq desc nulls last,
            registry.ingested_at desc nulls last,
            registry.file_id desc
        limit 1
    )
{%- endmacro %}
