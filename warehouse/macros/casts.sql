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

{% macro default__to_double(col) -%}
    case when {{ clean_numeric_text(col) }} ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$'
         then cast({{ clean_numeric_text(col) }} as double precision) end
{%- endmacro %}

{% macro duckdb__to_double(col) -%}
    try_cast({{ clean_numeric_text(col) }} as double)
{%- endmacro %}

{% macro to_int(col) -%}
    cast(round({{ to_double(col) }}) as integer)
{%- endmacro %}

{#- A source value is missing when empty or one of the publisher's placeholders. -#}
{% macro is_blank(col) -%}
    (trim(coalesce({{ col }}, '')) in ('', '-', '*', 'n/a', 'N/A', '..', 'NA'))
{%- endmacro %}
