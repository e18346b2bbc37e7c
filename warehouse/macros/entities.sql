{#- The key of a US (EIA) mine among FVI's entities: 'MSHA' and the MSHA mine ID. Made here, once:
    dim_entity carries it; fvi.registry.vocabulary.US_MINE_PREFIX must say the same (a drift test
    compares them). -#}
{% macro us_mine_entity_id(column) -%}
    'MSHA' || cast({{ column }} as varchar)
{%- endmacro %}
