{#- One row per entity FVI scores: every GEM mine, every US (EIA) mine and every country, with its
    stable id. The US mine key ('MSHA' || MSHA ID) is made here, once. -#}

with

gem_mines as (

    select * from {{ ref('dim_mine') }}

),

us_mine_years as (

    select * from {{ ref('fct_us_mine__yearly') }}

),

countries as (

    select * from {{ ref('dim_country') }}

),

us_latest as (

    select
        msha_id,
        max(year) as latest_year,
        min(year) as first_year
    from us_mine_years
    group by msha_id

),

us_mines as (

    select
        'us_mine' as entity_type,
        {{ us_mine_entity_id('y.msha_id') }} as entity_id,
        y.mine_name as entity_name,
        'USA' as country_iso3,
        lower(y.status) as status,
        y.msha_id,
        y.gem_mine_id,
        l.first_year,
        l.latest_year,
        y.is_synthetic
    from us_mine_years as y
    inner join us_latest as l on l.msha_id = y.msha_id and l.latest_year = y.year

),

mines as (

    select
        'mine' as entity_type,
        gem_mine_id as entity_id,
        mine_name as entity_name,
        country_iso3,
        status,
        msha_id,
        gem_mine_id,
        cast(null as integer) as first_year,
        cast(null as integer) as latest_year,
        is_synthetic
    from gem_mines

),

country_entities as (

    select
        'country' as entity_type,
        iso3 as entity_id,
        country_name as entity_name,
        iso3 as country_iso3,
        case when is_coal_producer then 'producer' else 'non_producer' end as status,
        cast(null as integer) as msha_id,
        cast(null as varchar) as gem_mine_id,
        cast(null as integer) as first_year,
        cast(null as integer) as latest_year,
        is_synthetic
    from countries

),

final as (

    select * from mines
    union all
    select * from us_mines
    union all
    select * from country_entities

)

select * from final
