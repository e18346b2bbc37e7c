{#- OWID annual CO2 emissions from coal: published in tonnes; also in Mt (÷ 1e6). -#}
with source as (
    select * from {{ source('owid', 'raw_owid__co2_from_coal') }}
),

typed as (
    select
        trim(entity) as entity,
        nullif(trim(iso3_code), '') as owid_code,
        {{ to_int('year') }} as year,
        {{ to_double('co2_from_coal_t') }} as co2_coal_t,
        {{ to_double('co2_from_coal_t') }} / 1000000.0 as co2_coal_mt,
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
