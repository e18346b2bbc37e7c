{#- Parsing helpers for the mine side (GEM, Climate TRACE, EIA). Cross-database like casts.sql. -#}

{#- First / last four-digit year (1800-2099) written in a text: '2024-2025' -> 2024 / 2025,
    '1970s' -> 1970, '1864 (UG), 2012 (OC)' -> 1864 / 2012, 'TBD' -> null. -#}
{% macro first_year(col) -%}
    {{ return(adapter.dispatch('regex_year', 'fvi')(col, '(1[89][0-9]{2}|20[0-9]{2})')) }}
{%- endmacro %}

{% macro last_year(col) -%}
    {{ return(adapter.dispatch('regex_year', 'fvi')(col, '^.*(1[89][0-9]{2}|20[0-9]{2})')) }}
{%- endmacro %}

{% macro default__regex_year(col, pattern) -%}
    cast(substring({{ col }} from '{{ pattern }}') as integer)
{%- endmacro %}

{% macro duckdb__regex_year(col, pattern) -%}
    cast(nullif(regexp_extract({{ col }}, '{{ pattern }}', 1), '') as integer)
{%- endmacro %}

{#- One row per element of a delimited text (use in a select list; empty elements remain and
    must be filtered by the caller). -#}
{% macro split_to_rows(col, delimiter) -%}
    {{ return(adapter.dispatch('split_to_rows', 'fvi')(col, delimiter)) }}
{%- endmacro %}

{% macro default__split_to_rows(col, delimiter) -%}
    unnest(string_to_array({{ col }}, '{{ delimiter }}'))
{%- endmacro %}

{% macro duckdb__split_to_rows(col, delimiter) -%}
    unnest(string_split({{ col }}, '{{ delimiter }}'))
{%- endmacro %}

{#- Text with nulls for the publisher's placeholders, else trimmed. -#}
{% macro clean_text(col) -%}
    case when {{ is_blank(col) }} then null else trim({{ col }}) end
{%- endmacro %}

{#- GEM mine status, lower case, in the accepted set. Rows of the closed sheet are 'closed'
    whatever they say; unknown words pass through lower-cased so the accepted_values test
    flags them instead of hiding them. -#}
{% macro gem_mine_status(status_col, is_closed_sheet) -%}
    case
        when {{ is_closed_sheet }} then 'closed'
        when {{ is_blank(status_col) }} then null
        else case lower(trim({{ status_col }}))
            when 'operating' then 'operating'
            when 'proposed' then 'proposed'
            when 'shelved' then 'shelved'
            when 'mothballed' then 'mothballed'
            when 'idle' then 'mothballed'
            when 'cancelled' then 'cancelled'
            when 'canceled' then 'cancelled'
            when 'closed' then 'closed'
            when 'retired' then 'retired'
            else lower(trim({{ status_col }}))
        end
    end
{%- endmacro %}

{#- Precedence of GEM mine statuses when one GEM Mine ID has several rows in a release
    (lower = wins). Documented in dim_mine's YAML and docs/warehouse.md "Mines with several rows". -#}
{% macro gem_status_rank(status_col) -%}
    case {{ status_col }}
        when 'operating' then 1
        when 'mothballed' then 2
        when 'closed' then 3
        when 'retired' then 4
        when 'proposed' then 5
        when 'shelved' then 6
        when 'cancelled' then 7
        else 9
    end
{%- endmacro %}

{#- Accepted GEM mine statuses (one list for the accepted_values tests' documentation). -#}
{% macro gem_mine_statuses() -%}
    {{ return(['operating', 'proposed', 'shelved', 'mothballed', 'cancelled', 'closed', 'retired']) }}
{%- endmacro %}

{#- Climate TRACE / generic confidence words -> ordinal 1 (very low) .. 5 (very high). -#}
{% macro confidence_ordinal(col) -%}
    case lower(trim({{ col }}))
        when 'very low' then 1
        when 'low' then 2
        when 'medium' then 3
        when 'high' then 4
        when 'very high' then 5
    end
{%- endmacro %}

{#- 1 short ton = 0.90718474 t (exact, by definition of the avoirdupois pound). -#}
{% macro short_tons_to_t(col) -%}
    ({{ col }}) * 0.90718474
{%- endmacro %}
