{#- Declarative corrections (seeds/corrections.csv) applied to one bronze column.

    corrected('latitude', 'gem_mines', 'closed', 'gem_mine_id', 'src') renders an expression that
    returns the seed's corrected_value when the seed has a row for this source, table, key value and
    column AND the published text still equals wrong_value (the guard); otherwise the published
    text unchanged. An empty corrected_value means null. Plain SQL (a correlated scalar subquery on
    a tiny seed), so it runs the same on DuckDB and PostgreSQL and needs no compile-time query.

    has_correction(...) is true when any correction fired on the row (for a `corrections_applied`
    audit column). -#}
{% macro corrected(column, source_id, table_name, key_column, row_alias) -%}
    case when exists (
            select 1 from {{ ref('corrections') }} as corr
            where corr.source_id = '{{ source_id }}'
              and corr.table_name = '{{ table_name }}'
              and corr.key_column = '{{ key_column }}'
              and corr.key_value = trim({{ row_alias }}.{{ key_column }})
              and corr.column_name = '{{ column }}'
              and corr.wrong_value = trim({{ row_alias }}.{{ column }})
         )
         then (
            select max(nullif(trim(corr.corrected_value), ''))
            from {{ ref('corrections') }} as corr
            where corr.source_id = '{{ source_id }}'
              and corr.table_name = '{{ table_name }}'
              and corr.key_column = '{{ key_column }}'
              and corr.key_value = trim({{ row_alias }}.{{ key_column }})
              and corr.column_name = '{{ column }}'
              and corr.wrong_value = trim({{ row_alias }}.{{ column }})
         )
         else {{ row_alias }}.{{ column }}
    end
{%- endmacro %}

{#- Names of the corrected columns of this row, comma-separated (null when none fired). -#}
{% macro corrections_applied(source_id, table_name, key_column, row_alias, columns) -%}
    (
        select string_agg(corr.column_name, ',' order by corr.column_name)
        from {{ ref('corrections') }} as corr
        where corr.source_id = '{{ source_id }}'
          and corr.table_name = '{{ table_name }}'
          and corr.key_column = '{{ key_column }}'
          and corr.key_value = trim({{ row_alias }}.{{ key_column }})
          and (
            {%- for c in columns %}
              (corr.column_name = '{{ c }}' and corr.wrong_value = trim({{ row_alias }}.{{ c }})){% if not loop.last %} or{% endif %}
            {%- endfor %}
          )
    )
{%- endmacro %}
