{#- GEM Mine ID <-> MSHA ID (the key of the EIA mine files): one row per pair GEM ever listed,
    over all releases, with whether EIA publishes that MSHA ID in any year. -#}

with

pairs as (

    select
        gem_mine_id,
        msha_id,
        min(release) as first_seen_release,
        max(release) as latest_release,
        max(case when is_first_listed then 1 else 0 end) = 1 as is_first_listed
    from {{ ref('stg_gem_mines__msha_ids') }}
    group by gem_mine_id, msha_id

),

eia as (

    select
        msha_id,
        min(year) as eia_first_year,
        max(year) as eia_last_year,
        count(distinct year) as eia_n_years,
        max(mine_name) as eia_mine_name
    from {{ ref('stg_eia_mines__mines') }}
    group by msha_id

),

final as (

    select
        pairs.gem_mine_id,
        pairs.msha_id,
        pairs.first_seen_release,
        pairs.latest_release,
        pairs.is_first_listed,
        eia.msha_id is not null as is_in_eia,
        eia.eia_first_year,
        eia.eia_last_year,
        coalesce(eia.eia_n_years, 0) as eia_n_years,
        eia.eia_mine_name,
        count(*) over (partition by pairs.msha_id) as n_gem_mines_for_msha_id,
        count(*) over (partition by pairs.gem_mine_id) as n_msha_ids_for_gem_mine,
        {{ fvi_is_synthetic() }} as is_synthetic
    from pairs
    left join eia
        on eia.msha_id = pairs.msha_id

)

select * from final
