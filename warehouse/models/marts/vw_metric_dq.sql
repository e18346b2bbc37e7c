{#- Data quality per metric of the registry, generated from seeds/metric_registry.csv (which
    fvi.registry.metrics.write_metric_seed() writes from src/fvi/registry/metrics.yml; a test
    keeps them equal). One select per metric, unioned; plain SQL on DuckDB and PostgreSQL.

    For yearly tables (a `year` column) coverage and null rate are measured over the last ten
    years of the table (max(year) - 9 .. max(year)); for dimension tables over all rows.
    share_imputed is 0 until scoring records imputations (METHODOLOGY rule 3): it will then be
    computed from the scoring's imputation table, one row per imputed value.

    Every gold table a metric may name must be listed here so dbt builds it first: -#}
-- depends_on: {{ ref('fct_country__yearly') }}
-- depends_on: {{ ref('fct_mine__yearly') }}
-- depends_on: {{ ref('dim_mine') }}
-- depends_on: {{ ref('metric_registry') }}
{%- set keys = {'country': 'iso3', 'mine': 'gem_mine_id'} %}
{%- set window_years = 10 %}

{%- if execute %}
    {%- set registry = run_query(
        "select metric_id, entity, gold_table, gold_column, pillar, unit, source_ids, confidence_column from "
        ~ ref('metric_registry') ~ " order by metric_id") %}
    {%- set metric_rows = registry.rows %}
{%- else %}
    {%- set metric_rows = [] %}
{%- endif %}

{%- set selects = [] %}
{%- for m in metric_rows %}
    {%- set rel = ref(m['gold_table']) %}
    {%- set cols = adapter.get_columns_in_relation(rel) | map(attribute='name') | map('lower') | list %}
    {%- set key = keys[m['entity']] %}
    {%- set has_column = m['gold_column'] in cols %}
    {%- set is_yearly = 'year' in cols %}
    {%- set conf = m['confidence_column'] if m['confidence_column'] and m['confidence_column'] in cols else none %}
    {%- set value = m['gold_column'] if has_column else 'cast(null as double precision)' %}
    {%- set sql %}
    select
        cast('{{ m["metric_id"] }}' as {{ dbt.type_string() }}) as metric_id,
        cast('{{ m["entity"] }}' as {{ dbt.type_string() }}) as entity,
        cast('{{ m["pillar"] }}' as {{ dbt.type_string() }}) as pillar,
        cast('{{ m["gold_table"] }}' as {{ dbt.type_string() }}) as gold_table,
        cast('{{ m["gold_column"] }}' as {{ dbt.type_string() }}) as gold_column,
        cast('{{ m["unit"] }}' as {{ dbt.type_string() }}) as unit,
        cast('{{ m["source_ids"] }}' as {{ dbt.type_string() }}) as source_ids,
        {{ 'true' if has_column else 'false' }} as has_gold_column,
        (select count(distinct {{ key }}) from {{ rel }}) as entities_total,
        count(distinct case when v is not null then k end) as entities_covered,
        count(*) as rows_measured,
        cast(1.0 - count(v) * 1.0 / nullif(count(*), 0) as double precision) as null_rate,
        {%- if is_yearly %}
        (select max(year) from {{ rel }} where {{ value }} is not null) as latest_year,
        (select max(year) from {{ rel }}) as data_max_year,
        {%- else %}
        cast(null as integer) as latest_year,
        cast(null as integer) as data_max_year,
        {%- endif %}
        cast(0.0 as double precision) as share_imputed,
        cast(avg(c) as double precision) as source_confidence
    from (
        select
            {{ key }} as k,
            {{ value }} as v,
            {{ 'cast(' ~ conf ~ ' as double precision)' if conf else 'cast(null as double precision)' }} as c
        from {{ rel }}
        {%- if is_yearly %}
        where year > (select max(year) from {{ rel }}) - {{ window_years }}
        {%- endif %}
    ) as measured
    {%- endset %}
    {%- do selects.append(sql) %}
{%- endfor %}

with per_metric as (
    {%- if selects %}
    {{ selects | join('\n    union all\n') }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as metric_id,
        cast(null as {{ dbt.type_string() }}) as entity,
        cast(null as {{ dbt.type_string() }}) as pillar,
        cast(null as {{ dbt.type_string() }}) as gold_table,
        cast(null as {{ dbt.type_string() }}) as gold_column,
        cast(null as {{ dbt.type_string() }}) as unit,
        cast(null as {{ dbt.type_string() }}) as source_ids,
        false as has_gold_column,
        cast(null as bigint) as entities_total,
        cast(null as bigint) as entities_covered,
        cast(null as bigint) as rows_measured,
        cast(null as double precision) as null_rate,
        cast(null as integer) as latest_year,
        cast(null as integer) as data_max_year,
        cast(null as double precision) as share_imputed,
        cast(null as double precision) as source_confidence
    where false
    {%- endif %}
),

final as (
    select
        metric_id,
        entity,
        pillar,
        gold_table,
        gold_column,
        unit,
        source_ids,
        has_gold_column,
        entities_total,
        entities_covered,
        rows_measured,
        null_rate,
        latest_year,
        data_max_year,
        data_max_year - latest_year as years_since_last_observation,
        share_imputed,
        source_confidence
    from per_metric
)

select * from final
