{#- EIA mine-level production and employment, 2008 onward in one schema.
    One row per MSHA ID, year and mine type (EIA publishes a mine's surface, underground and
    refuse-recovery workings as separate rows). Thousands separators removed; short tons
    converted to metric tonnes (1 short ton = 0.90718474 t). -#}

with

source as (

    select * from {{ source('eia_mines', 'raw_eia_mines__mines') }}

),

typed as (

    select
        {{ to_int('year') }} as year,
        {{ to_int('msha_id') }} as msha_id,
        {{ clean_text('mine_name') }} as mine_name,
        {{ clean_text('mine_state') }} as mine_state_published,
        {{ clean_text('mine_county') }} as mine_county,
        {{ clean_text('mine_basin') }} as mine_basin,
        {{ clean_text('coal_supply_region') }} as coal_supply_region,
        {{ clean_text('mine_status') }} as mine_status,
        {{ clean_text('mine_type') }} as mine_type,
        {{ clean_text('company_type') }} as company_type,
        {{ clean_text('operation_type') }} as operation_type,
        {{ clean_text('operating_company') }} as operating_company,
        {{ clean_text('operating_company_address') }} as operating_company_address,
        {{ clean_text('union_code') }} as union_code,
        {{ to_double('production_short_tons') }} as production_short_tons,
        {{ to_double('average_employees') }} as average_employees,
        {{ to_double('labor_hours') }} as labor_hours,
        _source_file as source_file,
        cast(_row_number as integer) as source_row_number,
        _release as release
    from source

),

regioned as (

    select
        typed.*,
        -- 'Mine Basin' (through 2011) and 'Coal Supply Region' (2013 on) use one vocabulary
        -- (Appalachia Central, Illinois Basin, Powder River Basin ...): one column.
        coalesce(coal_supply_region, mine_basin) as region_published,
        case when coal_supply_region is not null then 'coal_supply_region'
             when mine_basin is not null then 'mine_basin' end as region_published_column
    from typed

),

-- 2012 publishes neither column: take the region the same mine has in the nearest other year.
region_by_year as (

    select distinct msha_id, year, region_published
    from regioned
    where region_published is not null

),

nearest_region as (

    select
        r.msha_id,
        r.year,
        o.region_published,
        row_number() over (
            partition by r.msha_id, r.year, r.mine_type
            order by abs(o.year - r.year), o.year desc, o.region_published
        ) as rn,
        r.mine_type
    from regioned as r
    inner join region_by_year as o
        on o.msha_id = r.msha_id
       and o.year <> r.year
    where r.region_published is null

),

final as (

    select
        regioned.year,
        regioned.msha_id,
        regioned.mine_name,
        -- Refuse-recovery rows carry 'Refuse Recovery' where the state belongs; EIA splits some
        -- states into parts ('Kentucky (East)'): state is the name before the parenthesis.
        case when regioned.mine_state_published = 'Refuse Recovery' then null
             when strpos(regioned.mine_state_published, '(') > 0
                 then trim(substr(regioned.mine_state_published, 1, strpos(regioned.mine_state_published, '(') - 1))
             else regioned.mine_state_published end as state,
        regioned.mine_state_published,
        regioned.mine_county,
        coalesce(regioned.region_published, nearest_region.region_published) as region,
        (regioned.region_published is null and nearest_region.region_published is not null) as is_region_inferred,
        regioned.region_published_column,
        regioned.mine_basin,
        regioned.coal_supply_region,
        regioned.mine_status,
        lower(regioned.mine_type) as mine_type,
        regioned.company_type,
        regioned.operation_type,
        regioned.operating_company,
        regioned.operating_company_address,
        regioned.union_code,
        (regioned.union_code is not null) as has_union_code,
        regioned.production_short_tons,
        {{ short_tons_to_t('regioned.production_short_tons') }} / 1000000.0 as production_mt,
        regioned.average_employees,
        regioned.labor_hours,
        regioned.source_file,
        regioned.source_row_number,
        regioned.release
    from regioned
    left join nearest_region
        on nearest_region.msha_id = regioned.msha_id
       and nearest_region.year = regioned.year
       and nearest_region.mine_type = regioned.mine_type
       and nearest_region.rn = 1

)

select * from final
