{#- One row per country (ISO3) seen in any country-level source; aggregates, subnational
    jurisdictions and former states never enter (they have no ISO3).
    is_coal_producer: any OWID coal production > 0 in the last 10 years of OWID data
    (relative to the latest year OWID publishes, not to today's date). -#}
with facts as (
    select * from {{ ref('fct_country__yearly') }}
),

ref_countries as (
    select * from {{ ref('stg_reference__countries') }}
),

seen as (
    select iso3, min(year) as first_year, max(year) as last_year
    from facts
    group by iso3
    union all
    -- countries that only a static source names (no yearly fact)
    select iso3, null, null from {{ ref('stg_coal_policy__cop26') }} where iso3 is not null
    union all
    select iso3, null, null from {{ ref('stg_coal_policy__phase_out') }} where iso3 is not null
    union all
    select iso3, null, null from {{ ref('stg_mining_land__area') }} where iso3 is not null
),

countries as (
    select iso3, min(first_year) as first_year, max(last_year) as last_year
    from seen
    group by iso3
),

production_window as (
    select max(year) as latest_year
    from facts
    where coal_production_twh is not null
),

producers as (
    select
        facts.iso3,
        max(case when facts.coal_production_twh > 0 then 1 else 0 end) = 1 as is_coal_producer,
        max(facts.coal_production_twh) as max_coal_production_10y_twh
    from facts
    cross join production_window
    where facts.year > production_window.latest_year - 10
      and facts.coal_production_twh is not null
    group by facts.iso3
),

income as (
    select iso3, income_level
    from (
        select
            iso3,
            income_level,
            row_number() over (partition by iso3 order by year desc) as rn
        from {{ ref('stg_subsidies__ffs_tracker') }}
        where iso3 is not null and income_level is not null
    ) as ranked
    where rn = 1
),

phase_out as (
    select iso3, phase_out_status, phase_out_year, is_coal_free
    from {{ ref('stg_coal_policy__phase_out') }}
    where iso3 is not null
),

cop26 as (
    select iso3, has_cop26_coal_pledge, is_ppca_member, is_coal_free
    from {{ ref('stg_coal_policy__cop26') }}
    where iso3 is not null
),

final as (
    select
        countries.iso3,
        ref_countries.iso2,
        ref_countries.country_name,
        ref_countries.official_name,
        ref_countries.common_name,
        income.income_level,
        coalesce(producers.is_coal_producer, false) as is_coal_producer,
        producers.max_coal_production_10y_twh,
        phase_out.phase_out_status,
        phase_out.phase_out_year,
        phase_out.iso3 is not null as is_listed_by_beyond_coal,
        cop26.has_cop26_coal_pledge,
        cop26.is_ppca_member,
        coalesce(phase_out.is_coal_free, cop26.is_coal_free) as is_coal_free,
        countries.first_year,
        countries.last_year,
        {{ fvi_is_synthetic() }} as is_synthetic
    from countries
    inner join ref_countries on ref_countries.iso3 = countries.iso3
    left join producers on producers.iso3 = countries.iso3
    left join income on income.iso3 = countries.iso3
    left join phase_out on phase_out.iso3 = countries.iso3
    left join cop26 on cop26.iso3 = countries.iso3
)

select * from final
