{#- OWID coal production by entity and year, TWh (primary energy) as published. -#}
with source as (
    select * from {{ source('owid', 'raw_owid__coal_production') }}
),

typed as (
    select
        trim(entity) as entity,
        nullif(trim(iso3_code), '') as owid_code,
        {{ to_int('year') }} as year,
        {{ to_double('coal_production_twh') }} as coal_production_twh,
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
