{#- One row per GEM Mine ID and tracker release: the rows GEM publishes for one ID in one release
    (phases, expansions, the closed-sheet record of a partly closed mine) combined by the rules
    in docs/warehouse.md "Mines with several rows" (also dim_mine's YAML). -#}

with

rows_ as (

    select
        *,
        {{ gem_status_rank('status') }} as status_rank
    from {{ ref('stg_gem_mines__mines') }}

),

ranked as (

    select
        rows_.*,
        -- the headline row: best status by precedence; within a status the base record before
        -- expansions/extensions (project_type set), the open sheet before the closed one, then
        -- the publisher's row order
        row_number() over (
            partition by gem_mine_id, release
            order by status_rank,
                     case when project_type is null or lower(project_type) = 'none' then 0 else 1 end,
                     case when sheet_table = 'open' then 0 else 1 end,
                     source_row_number
        ) as headline_rank
    from rows_

),

headline as (

    select * from ranked where headline_rank = 1

),

msha as (

    select
        gem_mine_id,
        release,
        min(msha_id) as min_msha_id,
        count(distinct msha_id) as n_msha_ids
    from {{ ref('stg_gem_mines__msha_ids') }}
    group by gem_mine_id, release

),

headline_msha as (

    select x.gem_mine_id, x.release, min(x.msha_id) as msha_id
    from {{ ref('stg_gem_mines__msha_ids') }} as x
    inner join headline as h
        on h.gem_mine_id = x.gem_mine_id
       and h.release = x.release
       and h.sheet_table = x.sheet_table
       and h.source_row_number = x.source_row_number
    where x.is_first_listed
    group by x.gem_mine_id, x.release

),

combined as (

    select
        r.gem_mine_id,
        r.release,
        max(r.release_year) as release_year,
        count(*) as n_source_rows,
        string_agg(distinct r.status, ', ' order by r.status) as statuses_listed,
        -- flows of separate phases add up
        sum(case when r.status = h.status then r.capacity_mtpa end) as capacity_mtpa,
        sum(r.capacity_mtpa) as capacity_all_rows_mtpa,
        sum(case when r.status = 'proposed' then r.capacity_mtpa end) as proposed_capacity_mtpa,
        sum(r.production_mtpa) as production_mtpa,
        max(case when r.production_mtpa is not null then r.year_of_production end) as year_of_production,
        sum(r.cmm_estimate_t_ch4) as cmm_estimate_t_ch4,
        sum(r.cmm_emissions_100yr_t_co2e) as cmm_emissions_100yr_t_co2e,
        sum(r.cmm_emissions_20yr_t_co2e) as cmm_emissions_20yr_t_co2e,
        -- stocks and sizes of the one mine are repeated on its phase rows: the largest, not a sum
        max(r.reserves_mt) as reserves_mt,
        max(r.year_of_reserves) as year_of_reserves,
        max(r.resources_mt) as resources_mt,
        max(r.rp_ratio_years) as rp_ratio_years,
        max(r.workforce_size) as workforce_size,
        max(r.mine_depth_m) as mine_depth_m,
        max(r.mine_size_km2) as mine_size_km2,
        min(r.opening_year) as opening_year,
        max(r.closing_year) as closing_year,
        string_agg(distinct r.owners, '; ' order by r.owners) as owners,
        string_agg(distinct r.parent_company, '; ' order by r.parent_company) as parent_company,
        max(case when r.sheet_table = 'closed' then 1 else 0 end) = 1 as has_closed_sheet_row
    from rows_ as r
    inner join headline as h
        on h.gem_mine_id = r.gem_mine_id
       and h.release = r.release
    group by r.gem_mine_id, r.release

),

final as (

    select
        c.gem_mine_id,
        c.release,
        c.release_year,
        h.mine_name,
        h.country_name,
        h.country_iso3,
        h.status,
        c.statuses_listed,
        h.status_detail,
        h.mine_type,
        h.mining_method,
        h.coal_type,
        h.coal_grade,
        h.region,
        h.subregion,
        h.state_province,
        h.coalfield,
        h.latitude,
        h.longitude,
        h.location_accuracy,
        c.owners,
        c.parent_company,
        c.opening_year,
        c.closing_year,
        h.reason_for_closure,
        c.capacity_mtpa,
        c.capacity_all_rows_mtpa,
        c.proposed_capacity_mtpa,
        c.production_mtpa,
        c.year_of_production,
        c.reserves_mt,
        c.year_of_reserves,
        c.resources_mt,
        c.rp_ratio_years,
        c.workforce_size,
        c.mine_depth_m,
        c.mine_size_km2,
        c.cmm_estimate_t_ch4,
        c.cmm_emissions_100yr_t_co2e,
        c.cmm_emissions_20yr_t_co2e,
        coalesce(hm.msha_id, m.min_msha_id) as msha_id,
        coalesce(m.n_msha_ids, 0) as n_msha_ids,
        c.n_source_rows,
        c.has_closed_sheet_row,
        h.status in ('closed', 'retired') as is_closed
    from combined as c
    inner join headline as h
        on h.gem_mine_id = c.gem_mine_id
       and h.release = c.release
    left join msha as m
        on m.gem_mine_id = c.gem_mine_id
       and m.release = c.release
    left join headline_msha as hm
        on hm.gem_mine_id = c.gem_mine_id
       and hm.release = c.release

)

select * from final
