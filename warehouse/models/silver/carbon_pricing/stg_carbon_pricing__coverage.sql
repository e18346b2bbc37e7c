{#- Share of the jurisdiction's CO2 emissions covered by carbon pricing, per year; published
    as a 0-1 share, normalised here to % (0-100). -#}
with source as (
    select * from {{ source('carbon_pricing', 'raw_carbon_pricing__coverage') }}
),

typed as (
    select
        trim(jurisdiction) as jurisdiction,
        {{ to_int('year') }} as year,
        {{ to_double('cov_all_co2_jur_co2') }} * 100.0 as coverage_all_co2_pct,
        {{ to_double('cov_tax_co2_jur_co2') }} * 100.0 as coverage_tax_co2_pct,
        {{ to_double('cov_ets_co2_jur_co2') }} * 100.0 as coverage_ets_co2_pct,
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
