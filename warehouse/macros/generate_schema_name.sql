{#- Schemas are exactly bronze/silver/gold/marts, plus FVI_SCHEMA_SUFFIX while a PostgreSQL
    build is staged aside (the pipeline then swaps the staged schemas in one transaction). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set base = custom_schema_name if custom_schema_name is not none else target.schema -%}
    {{ base ~ env_var('FVI_SCHEMA_SUFFIX', '') }}
{%- endmacro %}
