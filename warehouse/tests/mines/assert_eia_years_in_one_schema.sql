{#- Acceptance: every EIA year 2008-2016 present in the one silver schema, each with production,
    employees, hours and a region for (nearly) all rows. Returns the years that fall short. -#}
{%- set years = range(2008, 2017) if row_floor(1, 0) == 1 else [] -%}
with

expected as (
    {%- for y in years %}
    select {{ y }} as year{% if not loop.last %} union all{% endif %}
    {%- endfor %}
    {%- if not years %}
    select cast(null as integer) as year where 1 = 0
    {%- endif %}
),

got as (
    select
        year,
        count(*) as n_rows,
        count(production_short_tons) as n_production,
        count(average_employees) as n_employees,
        count(labor_hours) as n_hours,
        count(region) as n_region
    from {{ ref('stg_eia_mines__mines') }}
    group by year
)

select expected.year, got.n_rows, got.n_production, got.n_employees, got.n_hours, got.n_region
from expected
left join got on got.year = expected.year
where got.year is null
   or got.n_production < 0.99 * got.n_rows
   or got.n_employees < 0.99 * got.n_rows
   or got.n_hours < 0.99 * got.n_rows
   or got.n_region < 0.95 * got.n_rows
