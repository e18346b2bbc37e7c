{#- Mapped mining land per country (Maus et al. 2020, v1), km². The dataset has no per-country
    observation date: asof_year is the v1 publication year (2020). -#}
with source as (
    select * from {{ source('mining_land', 'raw_mining_land__area') }}
),

typed as (
    select
        trim(country_name) as country_name,
        nullif(trim(iso3_code), '') as source_iso3_code,
        {{ to_double('area') }} as mining_land_km2,
        {{ to_int('n_features') }} as mining_feature_count,
        2020 as asof_year,
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
