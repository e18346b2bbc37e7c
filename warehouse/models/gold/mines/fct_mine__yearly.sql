{#- One row per GEM mine and year: what each source says about the mine for that year, so later
    steps can take features strictly as of a year.
      GEM production       -> the year it refers to (year_of_production), newest release first;
      GEM snapshot         -> the release year (status, capacity, reserves, R/P, workforce, methane
                              as known when the tracker was published), newest release of that year;
      Climate TRACE        -> calendar year of the monthly estimates (gas co2e_100yr);
      EIA (US, via MSHA ID)-> report year, summed over the MSHA IDs crosswalked to the mine. -#}

with

mines as (

    select gem_mine_id from {{ ref('dim_mine') }}

),

by_release as (

    select * from {{ ref('int_gem_mines__release') }}

),

gem_snapshot as (

    select *
    from (
        select
            by_release.*,
            row_number() over (partition by gem_mine_id, release_year order by release desc) as rn
        from by_release
    ) as r
    where rn = 1

),

gem_production as (

    select gem_mine_id, year_of_production as year, production_mtpa as production_mt,
           release as production_release
    from (
        select
            by_release.*,
            row_number() over (partition by gem_mine_id, year_of_production order by release desc) as rn
        from by_release
        where year_of_production is not null and production_mtpa is not null
    ) as r
    where rn = 1

),

ct_sources as (

    select
        gem_mine_id,
        year,
        sum(activity_t) as activity_t,
        sum(emissions_t) as emissions_t_co2e,
        sum(capacity_t_per_yr) / 1000000.0 as capacity_mtpa,
        case when sum(capacity_t_per_yr) > 0 then sum(activity_t) / sum(capacity_t_per_yr) end as capacity_factor,
        min(source_id) as source_id,
        count(*) as n_sources
    from {{ ref('stg_climate_trace__sources') }}
    where gas = 'co2e_100yr' and gem_mine_id is not null
    group by gem_mine_id, year

),

ct_confidence as (

    select
        s.gem_mine_id,
        c.year,
        min(c.activity_confidence) as activity_confidence,
        min(c.emissions_quantity_confidence) as emissions_confidence,
        min(c.capacity_confidence) as capacity_confidence,
        min(c.emissions_factor_confidence) as emissions_factor_confidence
    from {{ ref('stg_climate_trace__confidence') }} as c
    inner join (
        select distinct source_id, gem_mine_id
        from {{ ref('stg_climate_trace__sources') }}
        where gem_mine_id is not null
    ) as s
        on s.source_id = c.source_id
    where c.gas = 'co2e_100yr'
    group by s.gem_mine_id, c.year

),

eia as (

    select
        x.gem_mine_id,
        u.year,
        sum(u.production_mt) as production_mt,
        sum(u.average_employees) as average_employees,
        sum(u.labor_hours) as labor_hours,
        count(*) as n_msha_ids
    from {{ ref('xwalk_mine__gem_eia') }} as x
    inner join {{ ref('fct_us_mine__yearly') }} as u
        on u.msha_id = x.msha_id
    group by x.gem_mine_id, u.year

),

spine as (

    select gem_mine_id, release_year as year from gem_snapshot
    union
    select gem_mine_id, year from gem_production
    union
    select gem_mine_id, year from ct_sources
    union
    select gem_mine_id, year from eia

),

final as (

    select
        spine.gem_mine_id,
        spine.year,

        gp.production_mt as gem_production_mt,
        gp.production_release as gem_production_release,
        gs.release as gem_release,
        gs.status as gem_status,
        gs.capacity_mtpa as gem_capacity_mtpa,
        gs.production_mtpa as gem_reported_production_mt,
        gs.year_of_production as gem_reported_production_year,
        gs.reserves_mt as gem_reserves_mt,
        gs.rp_ratio_years as gem_rp_ratio_years,
        gs.workforce_size as gem_workforce_size,
        -- the release's latest reported production per worker, both from the same release
        case when gs.workforce_size > 0 and gs.production_mtpa is not null
             then gs.production_mtpa * 1000000.0 / gs.workforce_size end as gem_productivity_t_per_worker,
        gs.cmm_estimate_t_ch4 as gem_cmm_estimate_t_ch4,
        gs.cmm_emissions_100yr_t_co2e as gem_cmm_emissions_100yr_t_co2e,

        ct.activity_t as ct_activity_t,
        ct.emissions_t_co2e as ct_emissions_t_co2e,
        case when ct.activity_t > 0 then ct.emissions_t_co2e / ct.activity_t end
            as ct_emission_intensity_t_co2e_per_t,
        ct.capacity_mtpa as ct_capacity_mtpa,
        ct.capacity_factor as ct_capacity_factor,
        cc.activity_confidence as ct_activity_confidence,
        cc.emissions_confidence as ct_emissions_confidence,
        cc.capacity_confidence as ct_capacity_confidence,
        cc.emissions_factor_confidence as ct_emissions_factor_confidence,
        ct.n_sources as ct_n_sources,

        eia.production_mt as eia_production_mt,
        eia.average_employees as eia_average_employees,
        eia.labor_hours as eia_labor_hours,
        case when eia.labor_hours > 0
             then eia.production_mt * 1000000.0 / eia.labor_hours end as eia_productivity_t_per_hour,
        eia.n_msha_ids as eia_n_msha_ids,

        gp.gem_mine_id is not null as has_gem_production,
        gs.gem_mine_id is not null as has_gem_snapshot,
        ct.gem_mine_id is not null as has_climate_trace,
        eia.gem_mine_id is not null as has_eia,
        {{ fvi_is_synthetic() }} as is_synthetic

    from spine
    inner join mines
        on mines.gem_mine_id = spine.gem_mine_id
    left join gem_production as gp
        on gp.gem_mine_id = spine.gem_mine_id and gp.year = spine.year
    left join gem_snapshot as gs
        on gs.gem_mine_id = spine.gem_mine_id and gs.release_year = spine.year
    left join ct_sources as ct
        on ct.gem_mine_id = spine.gem_mine_id and ct.year = spine.year
    left join ct_confidence as cc
        on cc.gem_mine_id = spine.gem_mine_id and cc.year = spine.year
    left join eia
        on eia.gem_mine_id = spine.gem_mine_id and eia.year = spine.year

)

select * from final
