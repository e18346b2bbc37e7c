{#- Klimadashboard COP26 agreements, one row per state. status_coal combines three facts:
    the Global Coal to Clean Power Transition Statement (Pledged / IncompletePledged /
    NotPledged), Powering Past Coal Alliance membership (PlusPPCA) and whether the state uses
    coal for power (UsesCoal / NoCoal). Observed at COP26 (Glasgow, November 2021):
    asof_year = 2021. -#}
with source as (
    select * from {{ source('coal_policy', 'raw_coal_policy__cop26') }}
),

typed as (
    select
        trim(state_name) as state_name,
        trim(state_iso) as state_iso2,
        trim(status_coal) as status_coal,
        trim(status_methane) as status_methane,
        trim(status_deforestation) as status_deforestation,
        trim(status_cars) as status_cars,
        2021 as asof_year,
        _source_file,
        _row_number,
        _release
    from source
),

resolved as (
    {{ with_iso3('typed', 'state_name', iso2_col='state_iso2') }}
),

final as (
    select
        state_name,
        state_iso2,
        iso3,
        name_kind,
        status_coal,
        status_coal like 'Pledged%' or status_coal like 'IncompletePledged%' as has_cop26_coal_pledge,
        status_coal like 'IncompletePledged%' as is_cop26_coal_pledge_partial,
        status_coal like '%PPCA%' as is_ppca_member,
        status_coal like '%NoCoal' as is_coal_free,
        status_methane like 'Pledged%' as has_methane_pledge,
        asof_year,
        _source_file,
        _row_number,
        _release
    from resolved
)

select * from final
