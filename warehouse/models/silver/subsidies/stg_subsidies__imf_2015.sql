{#- IMF post-tax energy subsidies for 2015 (Coady et al. 2017): % of GDP by fuel, GDP in USD.
    The file states no year per row: every value is the IMF's 2015 estimate, so year = 2015. -#}
with source as (
    select * from {{ source('subsidies', 'raw_subsidies__imf_2015') }}
),

typed as (
    select
        trim(country) as country_name,
        2015 as year,
        {{ to_double('coal_pct_gdp') }} as coal_subsidies_pct_gdp,
        {{ to_double('petroleum_pct_gdp') }} as petroleum_subsidies_pct_gdp,
        {{ to_double('natural_gas_pct_gdp') }} as natural_gas_subsidies_pct_gdp,
        {{ to_double('electricity_pct_gdp') }} as electricity_subsidies_pct_gdp,
        {{ to_double('total_pct_gdp') }} as total_energy_subsidies_pct_gdp,
        {{ to_double('nominal_gdp_usd_bn') }} * 1000000000.0 as nominal_gdp_usd,
        {{ to_double('population_mn') }} * 1000000.0 as population,
        _source_file,
        _row_number,
        _release
    from source
),

resolved as (
    {{ with_iso3('typed', 'country_name') }}
),

final as (
    select * from resolved
)

select * from final
