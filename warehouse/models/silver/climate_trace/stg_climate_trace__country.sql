{#- Climate TRACE country coal-mining emissions, one row per country, year and gas.
    Published in tonnes (CO2e over 100 years for gas co2e_100yr); start_time gives the year. -#}
with source as (
    select * from {{ source('climate_trace', 'raw_climate_trace__country') }}
),

typed as (
    select
        upper(trim(iso3_country)) as ct_iso3,
        {{ year_of_text('start_time') }} as year,
        trim(gas) as gas,
        {{ to_double('emissions_quantity') }} as emissions_t,
        nullif(trim(temporal_granularity), '') as temporal_granularity,
        _source_file,
        _row_number,
        _release
    from source
),

final as (
    select
        typed.ct_iso3,
        countries.iso3,
        typed.year,
        typed.gas,
        typed.emissions_t,
        typed.temporal_granularity,
        typed._source_file,
        typed._row_number,
        typed._release
    from typed
    left join {{ ref('stg_reference__countries') }} as countries
        on countries.iso3 = typed.ct_iso3
)

select * from final
