{#- Emissions-weighted carbon price per jurisdiction and year, 2021 USD per t CO2.
    `_jur_co2`: weighted by the jurisdiction's CO2 emissions (the headline series); `_jur_ghg`:
    by its total GHG emissions. all = tax + ETS. Subnational jurisdictions (US states, Canadian
    provinces, Chinese provinces) keep iso3 null with name_kind = 'subnational'. -#}
with source as (
    select * from {{ source('carbon_pricing', 'raw_carbon_pricing__ecp') }}
),

typed as (
    select
        trim(jurisdiction) as jurisdiction,
        {{ to_int('year') }} as year,
        {{ to_double('ecp_all_jur_co2_usd_k') }} as ecp_all_co2_usd_per_t_co2,
        {{ to_double('ecp_tax_jur_co2_usd_k') }} as ecp_tax_co2_usd_per_t_co2,
        {{ to_double('ecp_ets_jur_co2_usd_k') }} as ecp_ets_co2_usd_per_t_co2,
        {{ to_double('ecp_all_jur_ghg_usd_k') }} as ecp_all_ghg_usd_per_t_co2,
        _source_file,
        _row_number,
        _release
    from source
),

resolved as (
    {{ with_iso3('typed', 'jurisdiction') }}
),

final as (
    select * from resolved
)

select * from final
