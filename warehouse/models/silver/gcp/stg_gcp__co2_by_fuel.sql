{#- Global Carbon Budget fossil CO2 by fuel: MtCO2 as published (per capita: t CO2 per person). -#}
with source as (
    select * from {{ source('gcp', 'raw_gcp__co2_by_fuel') }}
),

typed as (
    select
        trim(country) as gcp_country,
        nullif(trim(iso3_code), '') as gcp_iso3_code,
        {{ to_int('year') }} as year,
        {{ to_double('total') }} as co2_total_mt,
        {{ to_double('coal') }} as co2_coal_mt,
        {{ to_double('oil') }} as co2_oil_mt,
        {{ to_double('gas') }} as co2_gas_mt,
        {{ to_double('cement') }} as co2_cement_mt,
        {{ to_double('flaring') }} as co2_flaring_mt,
        {{ to_double('other') }} as co2_other_mt,
        {{ to_double('per_capita') }} as co2_per_capita_t,
        _source_file,
        _row_number,
        _release
    from source
),

resolved as (
    {{ with_iso3('typed', 'gcp_country', code_col='gcp_iso3_code') }}
),

final as (
    select * from resolved
)

select * from final
