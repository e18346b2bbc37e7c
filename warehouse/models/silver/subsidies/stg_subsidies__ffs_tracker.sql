{#- OECD/IISD Fossil Fuel Subsidy Tracker (via ONE Campaign): total fossil-fuel subsidies,
    nominal USD per country and year. -#}
with source as (
    select * from {{ source('subsidies', 'raw_subsidies__ffs_tracker') }}
),

typed as (
    select
        trim(country_name) as country_name,
        nullif(trim(iso3_code), '') as source_iso3_code,
        {{ to_int('year') }} as year,
        {{ to_double('value_usd') }} as fossil_fuel_subsidies_usd,
        nullif(trim(income_level), '') as income_level,
        _source_file,
        _row_number,
        _release
    from source
),

resolved as (
    {{ with_iso3('typed', 'country_name', code_col='source_iso3_code') }}
),

final as (
    select * from resolved
)

select * from final
