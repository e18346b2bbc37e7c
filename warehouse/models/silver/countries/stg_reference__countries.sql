{#- The ISO 3166-1 reference (pycountry + XKX) as written by the pipeline, trimmed. -#}
with source as (
    select * from {{ source('reference', 'ref_countries') }}
),

final as (
    select
        upper(trim(iso3)) as iso3,
        upper(trim(iso2)) as iso2,
        nullif(trim(cast(numeric as {{ dbt.type_string() }})), '') as iso_numeric,
        trim(name) as country_name,
        nullif(trim(official_name), '') as official_name,
        nullif(trim(common_name), '') as common_name
    from source
)

select * from final
