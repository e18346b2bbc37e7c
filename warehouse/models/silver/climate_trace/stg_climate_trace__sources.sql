{#- Climate TRACE coal-mining sources, monthly rows summed to calendar years per source and gas.
    Units as published: activity in t of coal, emissions in t of the gas named in `gas`
    (co2e_100yr -> t CO2e on the 100-year GWP), capacity in t of coal per year. -#}

with

source as (

    select * from {{ source('climate_trace', 'raw_climate_trace__sources') }}

),

monthly as (

    select
        cast({{ to_int('source_id') }} as bigint) as source_id,
        cast(left(trim(start_time), 4) as integer) as year,
        lower(trim(gas)) as gas,
        {{ clean_text('native_source_id') }} as native_source_id,
        {{ clean_text('source_name') }} as source_name,
        {{ clean_text('source_type') }} as source_type,
        upper(trim(iso3_country)) as iso3_country,
        {{ to_double('lat') }} as latitude,
        {{ to_double('lon') }} as longitude,
        {{ to_double('emissions_quantity') }} as emissions_quantity,
        {{ to_double('activity') }} as activity,
        {{ clean_text('activity_units') }} as activity_units,
        {{ to_double('capacity') }} as capacity,
        {{ clean_text('capacity_units') }} as capacity_units,
        {{ to_double('capacity_factor') }} as capacity_factor,
        {{ clean_text('emissions_factor_units') }} as emissions_factor_units,
        _release as release
    from source

),

yearly as (

    select
        source_id,
        year,
        gas,
        max(native_source_id) as native_source_id,
        max(source_name) as source_name,
        max(source_type) as source_type,
        max(iso3_country) as iso3_country,
        avg(latitude) as latitude,
        avg(longitude) as longitude,
        count(*) as n_months,
        sum(emissions_quantity) as emissions_t,
        sum(activity) as activity_t,
        max(activity_units) as activity_units,
        avg(capacity) as capacity_t_per_yr,
        max(capacity_units) as capacity_units,
        avg(capacity_factor) as capacity_factor,
        max(emissions_factor_units) as emissions_factor_units,
        max(release) as release
    from monthly
    group by source_id, year, gas

),

final as (

    select
        source_id,
        year,
        gas,
        -- Climate TRACE's native_source_id for coal mines is the GEM Mine ID ('M1526').
        native_source_id as gem_mine_id,
        source_name,
        source_type,
        iso3_country,
        latitude,
        longitude,
        n_months,
        emissions_t,
        activity_t,
        activity_units,
        capacity_t_per_yr,
        capacity_t_per_yr / 1000000.0 as capacity_mtpa,
        capacity_units,
        capacity_factor,
        -- yearly emission factor = yearly emissions / yearly activity (t gas per t coal)
        case when activity_t > 0 then emissions_t / activity_t end as emissions_factor_t_per_t,
        emissions_factor_units,
        release
    from yearly

)

select * from final
