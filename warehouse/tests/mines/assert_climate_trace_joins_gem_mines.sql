{#- Acceptance: Climate TRACE coal-mining sources join the GEM mine spine (3,000+ mines on the
    real data; any on synthetic data). Returns a row when coverage falls below the floor. -#}
select n_mines
from (
    select count(distinct gem_mine_id) as n_mines
    from {{ ref('fct_mine__yearly') }}
    where has_climate_trace
) as coverage
where n_mines < {{ row_floor(3000) }}
