{#- Fails with each non-null value of the column that does not fully match the regular
    expression (e.g. '^GM[0-9]{4}$' for municipality codes). -#}
{% test matches_pattern(model, column_name, pattern) %}

    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
      and not {{ jeugdhulp.regex_matches(column_name, "'" ~ pattern ~ "'") }}

{% endtest %}
