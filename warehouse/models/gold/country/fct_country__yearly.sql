{#- Country features per year, every fact keyed by the year it describes, so scoring and the
    models can take features strictly as of a year t (filter year <= t).

    Static facts (Beyond Coal phase-out plan, COP26 pledges, mining land) are attached to every
    year of the country with a `*_asof_year` column saying when they were observed; a consumer
    working as of year t must ignore them when `*_asof_year > t`. The IMF coal subsidy estimate
    is yearly data for 2015 and sits on 2015 only. Years before 1800 are left out (GCP back-casts
    to 1750, which no feature uses). GEM aggregates sit on the year of the tracker release
    (2017 and 2023 plant trackers, 2024 mine tracker): they describe the fleet as published then. -#}
{%- set min_year = 1800 %}

with owid_production as (
    select iso3, year, coal_production_twh
    from {{ ref('stg_owid__coal_production') }}
    where iso3 is not null
),

world_production as (
    select year, coal_production_twh as world_coal_production_twh
    from {{ ref('stg_owid__coal_production') }}
    where lower(entity) = 'world'
),

owid_consumption as (
    select iso3, year, coal_consumption_twh
    from {{ ref('stg_owid__coal_consumption') }}
    where iso3 is not null
),

owid_co2 as (
    select iso3, year, co2_coal_mt
    from {{ ref('stg_owid__co2_from_coal') }}
    where iso3 is not null
),

owid_electricity as (
    select
        iso3, year, electricity_from_coal_twh, electricity_generation_twh,
        coal_share_of_electricity_pct, renewables_share_of_electricity_pct,
        low_carbon_share_of_electricity_pct, carbon_intensity_of_electricity_g_co2_per_kwh
    from {{ ref('stg_owid__electricity_mix') }}
    where iso3 is not null
),

gcp as (
    select iso3, year, co2_coal_mt as gcp_co2_coal_mt, co2_total_mt as gcp_co2_total_mt
    from {{ ref('stg_gcp__co2_by_fuel') }}
    where iso3 is not null
),

wdi as (
    select
        iso3,
        year,
        max(case when indicator_code = 'EG.ELC.COAL.ZS' then value end) as wdi_coal_share_of_electricity_pct,
        max(case when indicator_code = 'NY.GDP.COAL.RT.ZS' then value end) as coal_rents_pct_gdp,
        max(case when indicator_code = 'NY.GDP.MKTP.CD' then value end) as gdp_usd
    from {{ ref('stg_wdi__indicators') }}
    where iso3 is not null
    group by iso3, year
),

ffs as (
    select iso3, year, fossil_fuel_subsidies_usd
    from {{ ref('stg_subsidies__ffs_tracker') }}
    where iso3 is not null
),

imf as (
    select iso3, year, coal_subsidies_pct_gdp
    from {{ ref('stg_subsidies__imf_2015') }}
    where iso3 is not null
),

ecp as (
    select iso3, year, ecp_all_co2_usd_per_t_co2 as carbon_price_usd_per_t_co2
    from {{ ref('stg_carbon_pricing__ecp') }}
    where iso3 is not null
),

coverage as (
    select
        iso3,
        year,
        -- tax and ETS coverage are published summed: emissions under both count twice
        case when coverage_all_co2_pct > 100 then 100.0 else coverage_all_co2_pct end
            as carbon_price_coverage_pct
    from {{ ref('stg_carbon_pricing__coverage') }}
    where iso3 is not null
),

climate_trace as (
    select iso3, year, emissions_t as ct_coal_mining_emissions_t_co2e
    from {{ ref('stg_climate_trace__country') }}
    where iso3 is not null and gas = 'co2e_100yr'
),

phase_out as (
    select
        iso3, phase_out_status, phase_out_year, is_phase_out_year_approximate,
        is_coal_free as is_coal_free_beyond_coal, snapshot_year as phase_out_asof_year
    from {{ ref('stg_coal_policy__phase_out') }}
    where iso3 is not null
),

cop26 as (
    select
        iso3, has_cop26_coal_pledge, is_ppca_member, is_coal_free as is_coal_free_cop26,
        asof_year as cop26_asof_year
    from {{ ref('stg_coal_policy__cop26') }}
    where iso3 is not null
),

mining_land as (
    select iso3, mining_land_km2, asof_year as mining_land_asof_year
    from {{ ref('stg_mining_land__area') }}
    where iso3 is not null
),

gem_plants as (
    -- GEM Global Coal Plant Tracker, per release: the fleet as the release saw it
    select
        country_iso3 as iso3,
        release_year as year,
        sum(case when status = 'operating' then capacity_mw else 0 end) as coal_plant_operating_capacity_mw,
        sum(case when status in ('announced', 'pre-permit', 'permitted', 'construction')
                 then capacity_mw else 0 end) as coal_plant_pipeline_capacity_mw,
        sum(case when status = 'operating' and start_year is not null
                 then capacity_mw * (release_year - start_year) end)
            / nullif(sum(case when status = 'operating' and start_year is not null
                              then capacity_mw end), 0) as coal_plant_mean_age_years
    from {{ ref('stg_gem_plants__units') }}
    where country_iso3 is not null and release_year is not null
    group by country_iso3, release_year
),

gem_mines as (
    -- GEM Global Coal Mine Tracker, per release year: operating and proposed mines
    select
        country_iso3 as iso3,
        cast(substr(release, 1, 4) as integer) as year,
        sum(case when status = 'operating' then 1 else 0 end) as operating_mine_count,
        sum(case when status = 'operating' then capacity_mtpa end) as operating_mine_capacity_mtpa,
        sum(case when status = 'proposed' then capacity_mtpa end) as proposed_mine_capacity_mtpa
    from {{ ref('int_gem_mines__release') }}
    where country_iso3 is not null
    group by country_iso3, cast(substr(release, 1, 4) as integer)
),

spine as (
    select iso3, year from owid_production
    union select iso3, year from owid_consumption
    union select iso3, year from owid_co2
    union select iso3, year from owid_electricity
    union select iso3, year from gcp
    union select iso3, year from wdi
    union select iso3, year from ffs
    union select iso3, year from imf
    union select iso3, year from ecp
    union select iso3, year from coverage
    union select iso3, year from climate_trace
    union select iso3, year from gem_plants
    union select iso3, year from gem_mines
),

joined as (
    select
        spine.iso3,
        spine.year,
        owid_production.coal_production_twh,
        owid_consumption.coal_consumption_twh,
        owid_electricity.electricity_from_coal_twh,
        owid_electricity.electricity_generation_twh,
        owid_electricity.coal_share_of_electricity_pct,
        wdi.wdi_coal_share_of_electricity_pct,
        owid_electricity.renewables_share_of_electricity_pct,
        owid_electricity.low_carbon_share_of_electricity_pct,
        owid_electricity.carbon_intensity_of_electricity_g_co2_per_kwh,
        owid_co2.co2_coal_mt as co2_from_coal_mt,
        gcp.gcp_co2_coal_mt,
        gcp.gcp_co2_total_mt,
        climate_trace.ct_coal_mining_emissions_t_co2e,
        wdi.coal_rents_pct_gdp,
        wdi.gdp_usd,
        ffs.fossil_fuel_subsidies_usd,
        imf.coal_subsidies_pct_gdp,
        ecp.carbon_price_usd_per_t_co2,
        coverage.carbon_price_coverage_pct,
        world_production.world_coal_production_twh,
        gem_plants.coal_plant_operating_capacity_mw,
        gem_plants.coal_plant_pipeline_capacity_mw,
        gem_plants.coal_plant_mean_age_years,
        gem_mines.operating_mine_count,
        gem_mines.operating_mine_capacity_mtpa,
        gem_mines.proposed_mine_capacity_mtpa,
        phase_out.phase_out_status,
        phase_out.phase_out_year,
        phase_out.is_phase_out_year_approximate,
        phase_out.is_coal_free_beyond_coal,
        phase_out.phase_out_asof_year,
        cop26.has_cop26_coal_pledge,
        cop26.is_ppca_member,
        cop26.is_coal_free_cop26,
        cop26.cop26_asof_year,
        mining_land.mining_land_km2,
        mining_land.mining_land_asof_year
    from spine
    left join owid_production on owid_production.iso3 = spine.iso3 and owid_production.year = spine.year
    left join owid_consumption on owid_consumption.iso3 = spine.iso3 and owid_consumption.year = spine.year
    left join owid_co2 on owid_co2.iso3 = spine.iso3 and owid_co2.year = spine.year
    left join owid_electricity on owid_electricity.iso3 = spine.iso3 and owid_electricity.year = spine.year
    left join gcp on gcp.iso3 = spine.iso3 and gcp.year = spine.year
    left join wdi on wdi.iso3 = spine.iso3 and wdi.year = spine.year
    left join ffs on ffs.iso3 = spine.iso3 and ffs.year = spine.year
    left join imf on imf.iso3 = spine.iso3 and imf.year = spine.year
    left join ecp on ecp.iso3 = spine.iso3 and ecp.year = spine.year
    left join coverage on coverage.iso3 = spine.iso3 and coverage.year = spine.year
    left join climate_trace on climate_trace.iso3 = spine.iso3 and climate_trace.year = spine.year
    left join gem_plants on gem_plants.iso3 = spine.iso3 and gem_plants.year = spine.year
    left join gem_mines on gem_mines.iso3 = spine.iso3 and gem_mines.year = spine.year
    left join world_production on world_production.year = spine.year
    left join phase_out on phase_out.iso3 = spine.iso3
    left join cop26 on cop26.iso3 = spine.iso3
    left join mining_land on mining_land.iso3 = spine.iso3
    where spine.year >= {{ min_year }}
),

derived as (
    select
        joined.*,
        case when world_coal_production_twh > 0
             then 100.0 * coal_production_twh / world_coal_production_twh
        end as coal_production_share_of_world_pct,
        coal_production_twh - coal_consumption_twh as coal_net_exports_twh,
        case when gdp_usd > 0 then 100.0 * fossil_fuel_subsidies_usd / gdp_usd end
            as fossil_fuel_subsidies_pct_gdp,
        case when gdp_usd > 0 then co2_from_coal_mt * 1000000000000.0 / gdp_usd end
            as co2_from_coal_t_per_musd_gdp
    from joined
),

with_trend as (
    select
        derived.*,
        case when earlier.coal_production_twh > 0
             then 100.0 * (derived.coal_production_twh / earlier.coal_production_twh - 1)
        end as coal_production_5y_change_pct
    from derived
    left join owid_production as earlier
        on earlier.iso3 = derived.iso3 and earlier.year = derived.year - 5
),

final as (
    select
        iso3,
        year,
        coal_production_twh,
        coal_production_share_of_world_pct,
        coal_production_5y_change_pct,
        coal_consumption_twh,
        coal_net_exports_twh,
        electricity_from_coal_twh,
        electricity_generation_twh,
        coal_share_of_electricity_pct,
        wdi_coal_share_of_electricity_pct,
        renewables_share_of_electricity_pct,
        low_carbon_share_of_electricity_pct,
        carbon_intensity_of_electricity_g_co2_per_kwh,
        co2_from_coal_mt,
        gcp_co2_coal_mt,
        gcp_co2_total_mt,
        co2_from_coal_t_per_musd_gdp,
        ct_coal_mining_emissions_t_co2e,
        coal_rents_pct_gdp,
        gdp_usd,
        fossil_fuel_subsidies_usd,
        fossil_fuel_subsidies_pct_gdp,
        coal_subsidies_pct_gdp,
        carbon_price_usd_per_t_co2,
        carbon_price_coverage_pct,
        phase_out_status,
        phase_out_year,
        is_phase_out_year_approximate,
        phase_out_asof_year,
        has_cop26_coal_pledge,
        is_ppca_member,
        cop26_asof_year,
        coalesce(is_coal_free_beyond_coal, is_coal_free_cop26) as is_coal_free,
        mining_land_km2,
        mining_land_asof_year,
        coal_plant_operating_capacity_mw,
        coal_plant_pipeline_capacity_mw,
        coal_plant_mean_age_years,
        operating_mine_count,
        operating_mine_capacity_mtpa,
        proposed_mine_capacity_mtpa,
        {{ fvi_is_synthetic() }} as is_synthetic
    from with_trend
)

select * from final
