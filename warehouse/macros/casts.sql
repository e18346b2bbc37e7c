{#- Cross-database casts from bronze text. Unparseable text becomes null (silver then counts it
    in its parse-issue columns); the same SQL runs on DuckDB and PostgreSQL. -#}

{#- Text of a number as published: thousands separators and surrounding spaces removed,
    GEM's missing-value tokens ('-', '*', '') mapped to null. -#}
{% macro clean_numeric_text(col) -%}
    nullif(nullif(nullif(replace(trim({{ col }}), ',', ''), ''), '-'), '*')
{%- endmacro %}

{% macro to_double(col) -%}
    {{ return(adapter.dispatch('to_double', 'fvi')(col)) }}
{%- endmacro %}

{#- Only finite numbers: '1e400' (inf on DuckDB, an "out of range" error that failed the whole
    PostgreSQL build), 'inf' and 'nan' become null, never a value scored as the worst. Bronze
    already quarantines such cells of the columns a column map declares (`numbers:`). -#}
{% macro default__to_double(col) -%}
    case when {{ clean_numeric_text(col) }} ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,3})?$'
         then case when abs(cast({{ clean_numeric_text(col) }} as numeric)) <= 1.7976931348623157e308
                        and (cast({{ clean_numeric_text(col) }} as numeric) = 0
                             or abs(cast({{ clean_numeric_text(col) }} as numeric)) >= 2.2250738585072014e-308)
                   then cast({{ clean_numeric_text(col) }} as double precision) end end
{%- endmacro %}

{% macro duckdb__to_double(col) -%}
    (case when isfinite(try_cast({{ clean_numeric_text(col) }} as double))
          then try_cast({{ clean_numeric_text(col) }} as double) end)
{%- endmacro %}

{% macro to_int(col) -%}
    cast(round({{ to_double(col) }}) as integer)
{%- endmacro %}

{#- A source value is missing when empty or one of the publisher's placeholders. -#}
{% macro is_blank(col) -%}
    (trim(coalesce({{ col }}, '')) in ('', '-', '*', 'n/a', 'N/A', '..', 'NA'))
{%- endmacro %}
