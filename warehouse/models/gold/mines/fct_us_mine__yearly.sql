{#- One row per US mine (MSHA ID) and year from the EIA mine files: the published rows of one
    mine and year (one per mine type: surface, underground, refuse) added up. -#}

with

rows_ as (

    select
        *,
        case mine_status
            when 'Active' then 1
            when 'Active, men working, not producing' then 2
            when 'New, under construction' then 3
            when 'Temporarily closed' then 4
            when 'Permanently abandoned' then 5
            else 9
        end as status_rank
    from {{ ref('stg_eia_mines__mines') }}

),

ranked as (

    select
        rows_.*,
        -- the main working: the row with the most production, then the most labour hours
        row_number() over (
            partition by msha_id, year
            order by coalesce(production_short_tons, 0) desc, coalesce(labor_hours, 0) desc,
                     mine_type
        ) as main_rank,
        row_number() over (
            partition by msha_id, year
            order by status_rank, mine_type
        ) as status_pick
    from rows_

),

-- one pass (no self-joins: PostgreSQL misestimates filtered window CTEs into nested loops)
summed as (

    select
        msha_id,
        year,
        count(*) as n_source_rows,
        string_agg(mine_type, ', ' order by mine_type) as mine_types,
        sum(production_short_tons) as production_short_tons,
        sum(production_mt) as production_mt,
        sum(average_employees) as average_employees,
        sum(labor_hours) as labor_hours,
        max(state) as state,
        max(region) as region,
        max(case when is_region_inferred then 1 else 0 end) = 1 as is_region_inferred,
        max(case when main_rank = 1 then mine_name end) as mine_name,
        max(case when main_rank = 1 then mine_state_published end) as mine_state_published,
        max(case when main_rank = 1 then mine_county end) as mine_county,
        max(case when main_rank = 1 then mine_type end) as mine_type,
        max(case when main_rank = 1 then company_type end) as company_type,
        max(case when main_rank = 1 then operation_type end) as operation_type,
        max(case when main_rank = 1 then operating_company end) as operating_company,
        max(case when main_rank = 1 then union_code end) as union_code,
        max(case when status_pick = 1 then mine_status end) as mine_status
    from ranked
    group by msha_id, year

),

gem as (

    -- one GEM mine per MSHA ID: the pair seen in the newest release, first listed, lowest ID
    select msha_id, gem_mine_id
    from (
        select
            msha_id,
            gem_mine_id,
            row_number() over (
                partition by msha_id
                order by latest_release desc,
                         case when is_first_listed then 0 else 1 end,
                         gem_mine_id
            ) as rn
        from {{ ref('xwalk_mine__gem_eia') }}
    ) as x
    where rn = 1

),

final as (

    select
        s.msha_id,
        s.year,
        s.mine_name,
        s.state,
        s.mine_state_published,
        s.mine_county,
        s.region,
        s.is_region_inferred,
        s.mine_status as status,
        s.mine_type,
        s.mine_types,
        s.company_type,
        s.operation_type,
        s.operating_company,
        s.union_code,
        s.production_short_tons,
        s.production_mt,
        s.average_employees,
        s.labor_hours,
        case when s.labor_hours > 0
             then s.production_mt * 1000000.0 / s.labor_hours end as productivity_t_per_hour,
        case when s.average_employees > 0
             then s.production_mt * 1000000.0 / s.average_employees end as productivity_t_per_worker,
        coalesce(s.production_short_tons, 0) > 0 as is_producing,
        s.n_source_rows,
        gem.gem_mine_id,
        {{ fvi_is_synthetic() }} as is_synthetic
    from summed as s
    left join gem
        on gem.msha_id = s.msha_id

)

select * from final
