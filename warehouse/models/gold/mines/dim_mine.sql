{#- One row per GEM Mine ID: its newest release's combined record (int_gem_mines__release). -#}

with

by_release as (

    select * from {{ ref('int_gem_mines__release') }}

),

seen as (

    select
        gem_mine_id,
        min(release) as first_seen_release,
        max(release) as latest_release,
        count(distinct release) as n_releases
    from by_release
    group by gem_mine_id

),

final as (

    select
        r.gem_mine_id,
        r.mine_name,
        r.mine_name_akas,
        r.mine_name_local,
        r.country_name,
        r.country_iso3,
        r.status,
        r.statuses_listed,
        r.status_detail,
        r.mine_type,
        r.mining_method,
        r.coal_type,
        r.coal_grade,
        r.region,
        r.subregion,
        r.state_province,
        r.coalfield,
        r.latitude,
        r.longitude,
        r.location_accuracy,
        r.owners,
        r.parent_company,
        r.opening_year,
        r.closing_year,
        r.reason_for_closure,
        r.capacity_mtpa,
        r.proposed_capacity_mtpa,
        r.production_mtpa,
        r.year_of_production,
        r.reserves_mt,
        r.rp_ratio_years,
        r.workforce_size,
        r.cmm_estimate_t_ch4,
        r.msha_id,
        r.msha_id is not null as has_msha_id,
        r.n_msha_ids,
        r.is_closed,
        r.n_source_rows,
        s.first_seen_release,
        s.latest_release,
        s.n_releases,
        {{ fvi_is_synthetic() }} as is_synthetic
    from by_release as r
    inner join seen as s
        on s.gem_mine_id = r.gem_mine_id
       and s.latest_release = r.release

)

select * from final
