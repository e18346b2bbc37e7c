{#- OWID fossil fuel production (The Shift Data Portal + Energy Institute): coal, oil, gas TWh. -#}
with source as (
    select * from {{ source('owid', 'raw_owid__fossil_production') }}
),

typed as (
    select
        trim(entity) as entity,
        nullif(trim(iso3_code), '') as owid_code,
        {{ to_int('year') }} as year,
        {{ to_double('coal_production_twh') }} as coal_production_twh,
        {{ to_double('oil_production_twh') }} as oil_production_twh,
        {{ to_double('gas_production_twh') }} as gas_production_twh,
        {{ to_double('annual_change_in_coal_production_pct') }} as coal_production_change_pct,
        {{ to_double('coal_production_per_capita_kwh') }} as coal_production_per_capita_kwh,
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
