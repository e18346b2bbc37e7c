{#- Acceptance: operating GEM mines in 60+ countries on the real data. -#}
select n_countries
from (
    select count(distinct country_iso3) as n_countries
    from {{ ref('dim_mine') }}
    where status = 'operating'
) as spread
where n_countries < {{ row_floor(60) }}
