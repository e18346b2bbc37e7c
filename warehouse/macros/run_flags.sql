{#- Run-level flags from dbt vars, in one place.

    fvi_is_synthetic(): SQL boolean literal for the `is_synthetic` column of gold tables
    (var fvi_synthetic, true when the run was fed by `fvi demo-data`).

    row_floor(real_floor, synthetic_floor=1): the minimum row count a data test expects. Real
    published data must reach `real_floor` (e.g. 6,000 GEM mines); the synthetic demo data
    (a few hundred mines) only `synthetic_floor`. Switch: var fvi_real_data_floors, which
    defaults to "not fvi_synthetic"; pass --vars '{fvi_real_data_floors: false}' for any small
    extract. -#}

{% macro fvi_var_is_true(value) -%}
    {{ return(value in [true, 'true', 'True', 'TRUE', 1, '1', 'yes']) }}
{%- endmacro %}

{% macro fvi_is_synthetic() -%}
    {{ 'true' if fvi_var_is_true(var('fvi_synthetic', false)) else 'false' }}
{%- endmacro %}

{% macro row_floor(real_floor, synthetic_floor=1) -%}
    {%- set real = var('fvi_real_data_floors', not fvi_var_is_true(var('fvi_synthetic', false))) -%}
    {{ return(real_floor if fvi_var_is_true(real) else synthetic_floor) }}
{%- endmacro %}
