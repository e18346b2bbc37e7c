{#- Every known way of writing a country (or a declared non-country) -> ISO3.
    Priority when two spellings collide: the maintained alias seed, then the ISO short name,
    the official name, the common name. -#}
with ref_countries as (
    select * from {{ ref('stg_reference__countries') }}
),

aliases as (
    select * from {{ ref('country_aliases') }}
),

spellings as (
    select lower(trim(alias)) as country_name_key, nullif(trim(iso3), '') as iso3,
           trim(kind) as name_kind, 'alias' as name_source, 1 as priority
    from aliases
    union all
    select lower(country_name), iso3, 'country', 'iso_name', 2 from ref_countries
    union all
    select lower(official_name), iso3, 'country', 'iso_official_name', 3
    from ref_countries where official_name is not null
    union all
    select lower(common_name), iso3, 'country', 'iso_common_name', 4
    from ref_countries where common_name is not null
),

ranked as (
    select
        *,
        row_number() over (partition by country_name_key order by priority, iso3) as rn
    from spellings
),

final as (
    select
        country_name_key,
        iso3,
        name_kind,
        name_kind = 'aggregate' as is_aggregate,
        name_source
    from ranked
    where rn = 1
)

select * from final
