{#- Typed GCPT units of every release: one row per published row (release, source row). -#}

with

source as (

    select * from {{ source('gem_plants', 'raw_gem_plants__units') }}

),

typed as (

    select
        trim(gem_unit_id) as gem_unit_id,
        _release as release,
        cast(left(_release, 4) as integer) as release_year,
        _source_file as source_file,
        cast(_row_number as integer) as source_row_number,
        {{ clean_text('gem_location_id') }} as gem_location_id,
        {{ clean_text('plant_name') }} as plant_name,
        {{ clean_text('unit_name') }} as unit_name,
        {{ clean_text('country') }} as country_name,
        {{ clean_text('owner') }} as owner,
        {{ clean_text('parent') }} as parent,
        {{ to_double('capacity_mw') }} as capacity_mw,
        case lower(trim(status))
            when 'pre' then 'pre-permit'
            when 'pre-permit development' then 'pre-permit'
            when 'canceled' then 'cancelled'
            else lower(trim(status))
        end as status,
        {{ clean_text('status') }} as status_published,
        {{ first_year('start_year') }} as start_year,
        {{ first_year('retired_year') }} as retired_year,
        {{ first_year('planned_retirement_year') }} as planned_retirement_year,
        {{ first_year('coal_phaseout_year') }} as coal_phaseout_year,
        {{ clean_text('combustion_technology') }} as combustion_technology,
        {{ clean_text('coal_type') }} as coal_type,
        {{ clean_text('coal_source') }} as coal_source,
        {{ clean_text('subnational_unit') }} as subnational_unit,
        {{ clean_text('subregion') }} as subregion,
        -- Jan 2017 publishes only GEM's old regions under 'Region'; from 2023 'Region' is the
        -- new scheme and the old one is 'Previous Region'.
        case when previous_region is not null or _release >= '2023' then {{ clean_text('region') }} end as region,
        coalesce({{ clean_text('previous_region') }},
                 case when _release < '2023' then {{ clean_text('region') }} end) as region_old_scheme,
        {{ to_double('latitude') }} as latitude_parsed,
        {{ to_double('longitude') }} as longitude_parsed,
        {{ clean_text('location_accuracy') }} as location_accuracy,
        {{ to_double('heat_rate_btu_per_kwh') }} as heat_rate_btu_per_kwh,
        -- Jan 2017 'Emission factor' is lb CO2/MMBtu: x 0.45359237 kg / 1.05505585262 GJ x 1000.
        coalesce(
            {{ to_double('emission_factor_kg_co2_per_tj') }},
            {{ to_double('emission_factor') }} * 0.45359237 / 1.05505585262 * 1000
        ) as emission_factor_kg_co2_per_tj,
        {{ to_double('capacity_factor') }} as capacity_factor,
        {{ to_double('annual_co2_mt') }} as annual_co2_mt,
        {{ to_double('lifetime_co2_mt') }} as lifetime_co2_mt,
        {{ to_double('remaining_plant_lifetime_years') }} as remaining_plant_lifetime_years

    from source

),

countries as (

    select country_name_key, iso3 from {{ ref('int_country_names') }}

),

final as (

    select
        typed.gem_unit_id,
        typed.release,
        typed.release_year,
        typed.source_file,
        typed.source_row_number,
        typed.gem_location_id,
        typed.plant_name,
        typed.unit_name,
        typed.country_name,
        countries.iso3 as country_iso3,
        typed.owner,
        typed.parent,
        typed.capacity_mw,
        typed.status,
        typed.status_published,
        typed.start_year,
        typed.retired_year,
        typed.planned_retirement_year,
        typed.coal_phaseout_year,
        typed.combustion_technology,
        typed.coal_type,
        typed.coal_source,
        typed.subnational_unit,
        typed.subregion,
        typed.region,
        typed.region_old_scheme,
        case when abs(typed.latitude_parsed) <= 90 then typed.latitude_parsed end as latitude,
        case when abs(typed.longitude_parsed) <= 180 then typed.longitude_parsed end as longitude,
        typed.location_accuracy,
        typed.heat_rate_btu_per_kwh,
        typed.emission_factor_kg_co2_per_tj,
        typed.capacity_factor,
        typed.annual_co2_mt,
        typed.lifetime_co2_mt,
        typed.remaining_plant_lifetime_years,
        count(*) over (partition by typed.release, typed.gem_unit_id) > 1 as is_duplicate_unit_id
    from typed
    left join countries
        on countries.country_name_key = lower(trim(typed.country_name))

)

select * from final
