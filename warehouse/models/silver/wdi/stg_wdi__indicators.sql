{#- World Bank WDI, long: one typed value per country code, indicator and year.
    Units follow the indicator: *.ZS are % (0-100), NY.GDP.MKTP.CD is current USD.
    Blank and '..' values are dropped (they mean "no observation"). When two files carry the
    same indicator (e.g. a bulk file and a DataBank extract), the newest release wins. -#}
with source as (
    select * from {{ source('wdi', 'raw_wdi__indicators') }}
),

typed as (
    select
        trim(country_name) as wdi_country_name,
        upper(trim(country_code)) as wdi_country_code,
        trim(indicator_code) as indicator_code,
        trim(indicator_name) as indicator_name,
        {{ to_int('year') }} as year,
        {{ to_double('value') }} as value,
        _source_file,
        _row_number,
        _release
    from source
    where not {{ is_blank('value') }}
),

deduplicated as (
    select *
    from (
        select
            *,
            row_number() over (
                partition by wdi_country_code, indicator_code, year
                order by _release desc, _source_file desc, _row_number
            ) as rn
        from typed
    ) as ranked
    where rn = 1
),

resolved as (
    {{ with_iso3('deduplicated', 'wdi_country_name', code_col='wdi_country_code') }}
),

final as (
    select
        wdi_country_name,
        wdi_country_code,
        iso3,
        name_kind,
        indicator_code,
        indicator_name,
        year,
        value,
        _source_file,
        _row_number,
        _release
    from resolved
)

select * from final
