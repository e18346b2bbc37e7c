{#- OWID electricity mix: coal, fossil and total generation (TWh) and shares (% of electricity). -#}
with source as (
    select * from {{ source('owid', 'raw_owid__electricity_mix') }}
),

typed as (
    select
        trim(entity) as entity,
        nullif(trim(iso3_code), '') as owid_code,
        {{ to_int('year') }} as year,
        {{ to_double('electricity_from_coal_twh') }} as electricity_from_coal_twh,
        {{ to_double('electricity_from_fossil_fuels_twh') }} as electricity_from_fossil_fuels_twh,
        {{ to_double('electricity_from_renewables_twh') }} as electricity_from_renewables_twh,
        {{ to_double('electricity_generation_twh') }} as electricity_generation_twh,
        {{ to_double('electricity_demand_twh') }} as electricity_demand_twh,
        {{ to_double('coal_pct_electricity') }} as coal_share_of_electricity_pct,
        {{ to_double('renewables_pct_electricity') }} as renewables_share_of_electricity_pct,
        {{ to_double('low_carbon_electricity_pct_electricity') }} as low_carbon_share_of_electricity_pct,
        {{ to_double('carbon_intensity_of_electricity_gco2_kwh') }} as carbon_intensity_of_electricity_g_co2_per_kwh,
        {{ to_double('coal_electricity_per_capita_kwh') }} as coal_electricity_per_capita_kwh,
        _source_file,
        _row_number,
        _release
    from source
),

resolved as (
    {{ with_iso3('typed', 'entity', code_col='owid_code') }}
),

final as (
    select * from resolved
)

select * from final
