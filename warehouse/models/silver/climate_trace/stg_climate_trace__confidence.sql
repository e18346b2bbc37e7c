{#- Climate TRACE per-field confidence, words -> ordinal (1 very low, 2 low, 3 medium, 4 high,
    5 very high), monthly rows reduced to calendar years per source and gas by taking the
    weakest month (min): a year is only as certain as its least certain month. -#}

with

source as (

    select * from {{ source('climate_trace', 'raw_climate_trace__confidence') }}

),

monthly as (

    select
        cast({{ to_int('source_id') }} as bigint) as source_id,
        cast(left(trim(start_time), 4) as integer) as year,
        lower(trim(gas)) as gas,
        {{ confidence_ordinal('source_type') }} as source_type_confidence,
        {{ confidence_ordinal('capacity') }} as capacity_confidence,
        {{ confidence_ordinal('capacity_factor') }} as capacity_factor_confidence,
        {{ confidence_ordinal('activity') }} as activity_confidence,
        {{ confidence_ordinal('emissions_factor') }} as emissions_factor_confidence,
        {{ confidence_ordinal('emissions_quantity') }} as emissions_quantity_confidence,
        _release as release
    from source

),

final as (

    select
        source_id,
        year,
        gas,
        count(*) as n_months,
        min(source_type_confidence) as source_type_confidence,
        min(capacity_confidence) as capacity_confidence,
        min(capacity_factor_confidence) as capacity_factor_confidence,
        min(activity_confidence) as activity_confidence,
        min(emissions_factor_confidence) as emissions_factor_confidence,
        min(emissions_quantity_confidence) as emissions_quantity_confidence,
        max(release) as release
    from monthly
    group by source_id, year, gas

)

select * from final
