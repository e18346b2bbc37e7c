{#- One row per GEM Mine ID and tracker release: the rows GEM publishes for one ID in one release
    (phases, expansions, the closed-sheet record of a partly closed mine) combined by the rules
    in docs/warehouse.md "Mines with several rows" (also dim_mine's YAML).
    Written as one ranked pass and one aggregation, without self-joins: PostgreSQL misestimates
    joins on filtered window CTEs (rn = 1) into nested loops. -#}

with

msha_by_row as (

    select
        gem_mine_id,
        release,
        sheet_table,
        source_row_number,
        min(case when is_first_listed then msha_id end) as first_msha_id,
        min(msha_id) as min_msha_id
    from {{ ref('stg_gem_mines__msha_ids') }}
    group by gem_mine_id, release, sheet_table, source_row_number

),

msha_counts as (

    select gem_mine_id, release, count(distinct msha_id) as n_msha_ids
    from {{ ref('stg_gem_mines__msha_ids') }}
    group by gem_mine_id, release

),

rows_ as (

    select
        m.*,
        {{ gem_status_rank('m.status') }} as status_rank,
        x.first_msha_id,
        x.min_msha_id
    from {{ ref('stg_gem_mines__mines') }} as m
    left join msha_by_row as x
        on x.gem_mine_id = m.gem_mine_id
       and x.release = m.release
       and x.sheet_table = m.sheet_table
       and x.source_row_number = m.source_row_number

),

ranked as (

    select
        rows_.*,
        -- the headline row: best status by precedence; within a status the base record before
        -- expansions/extensions (project_type set), the open sheet before the closed one, then
        -- the publisher's row order
        row_number() over headline_order as headline_rank,
        first_value(status) over headline_order as headline_status
    from rows_
    window headline_order as (
        partition by gem_mine_id, release
        order by status_rank,
                 case when project_type is null or lower(project_type) = 'none' then 0 else 1 end,
                 case when sheet_table = 'open' then 0 else 1 end,
                 source_row_number
    )

),

combined as (

    select
        gem_mine_id,
        release,
        max(release_year) as release_year,

        -- from the headline row
        max(case when headline_rank = 1 then mine_name end) as mine_name,
        max(case when headline_rank = 1 then mine_name_akas end) as mine_name_akas,
        max(case when headline_rank = 1 then mine_name_local end) as mine_name_local,
        max(case when headline_rank = 1 then country_name end) as country_name,
        max(case when headline_rank = 1 then country_iso3 end) as country_iso3,
        max(headline_status) as status,
        max(case when headline_rank = 1 then status_detail end) as status_detail,
        max(case when headline_rank = 1 then mine_type end) as mine_type,
        max(case when headline_rank = 1 then mining_method end) as mining_method,
        max(case when headline_rank = 1 then coal_type end) as coal_type,
        max(case when headline_rank = 1 then coal_grade end) as coal_grade,
        max(case when headline_rank = 1 then region end) as region,
        max(case when headline_rank = 1 then subregion end) as subregion,
        max(case when headline_rank = 1 then state_province end) as state_province,
        max(case when headline_rank = 1 then coalfield end) as coalfield,
        max(case when headline_rank = 1 then latitude end) as latitude,
        max(case when headline_rank = 1 then longitude end) as longitude,
        max(case when headline_rank = 1 then location_accuracy end) as location_accuracy,
        max(case when headline_rank = 1 then reason_for_closure end) as reason_for_closure,
        max(case when headline_rank = 1 then first_msha_id end) as headline_msha_id,

        string_agg(distinct status, ', ' order by status) as statuses_listed,
        count(*) as n_source_rows,
        -- flows of separate phases add up
        sum(case when status = headline_status then capacity_mtpa end) as capacity_mtpa,
        sum(capacity_mtpa) as capacity_all_rows_mtpa,
        sum(case when status = 'proposed' then capacity_mtpa end) as proposed_capacity_mtpa,
        sum(production_mtpa) as production_mtpa,
        max(case when production_mtpa is not null then year_of_production end) as year_of_production,
        sum(cmm_estimate_t_ch4) as cmm_estimate_t_ch4,
        sum(cmm_emissions_100yr_t_co2e) as cmm_emissions_100yr_t_co2e,
        sum(cmm_emissions_20yr_t_co2e) as cmm_emissions_20yr_t_co2e,
        -- stocks and sizes of the one mine are repeated on its phase rows: the largest, not a sum
        max(reserves_mt) as reserves_mt,
        max(year_of_reserves) as year_of_reserves,
        max(resources_mt) as resources_mt,
        max(rp_ratio_years) as rp_ratio_years,
        max(workforce_size) as workforce_size,
        max(mine_depth_m) as mine_depth_m,
        max(mine_size_km2) as mine_size_km2,
        min(opening_year) as opening_year,
        max(closing_year) as closing_year,
        string_agg(distinct owners, '; ' order by owners) as owners,
        string_agg(distinct parent_company, '; ' order by parent_company) as parent_company,
        max(case when sheet_table = 'closed' then 1 else 0 end) = 1 as has_closed_sheet_row,
        min(min_msha_id) as min_msha_id
    from ranked
    group by gem_mine_id, release

),

final as (

    select
        c.gem_mine_id,
        c.release,
        c.release_year,
        c.mine_name,
        c.mine_name_akas,
        c.mine_name_local,
        c.country_name,
        c.country_iso3,
        c.status,
        c.statuses_listed,
        c.status_detail,
        c.mine_type,
        c.mining_method,
        c.coal_type,
        c.coal_grade,
        c.region,
        c.subregion,
        c.state_province,
        c.coalfield,
        c.latitude,
        c.longitude,
        c.location_accuracy,
        c.owners,
        c.parent_company,
        c.opening_year,
        c.closing_year,
        c.reason_for_closure,
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
        coalesce(c.headline_msha_id, c.min_msha_id) as msha_id,
        coalesce(mc.n_msha_ids, 0) as n_msha_ids,
        c.n_source_rows,
        c.has_closed_sheet_row,
        c.status in ('closed', 'retired') as is_closed
    from combined as c
    left join msha_counts as mc
        on mc.gem_mine_id = c.gem_mine_id
       and mc.release = c.release

)

select * from final
