{#- Typed GEM mine rows: the open and the closed sheet of every release, one row per published row.
    Declared corrections (seeds/corrections.csv) are applied to the raw text first. -#}
{%- set corrected_columns = ['latitude', 'longitude'] -%}

with

{% for sheet in ['open', 'closed'] %}
{{ sheet }}_rows as (

    select
        src.*,
        '{{ sheet }}' as sheet_table,
        {%- for c in corrected_columns %}
        {{ corrected(c, 'gem_mines', sheet, 'gem_mine_id', 'src') }} as {{ c }}_corrected,
        {%- endfor %}
        {{ corrections_applied('gem_mines', sheet, 'gem_mine_id', 'src', corrected_columns) }} as corrections_applied
    from {{ source('gem_mines', 'raw_gem_mines__' ~ sheet) }} as src

),

{{ sheet }}_typed as (

    select
        trim(gem_mine_id) as gem_mine_id,
        _release as release,
        cast(left(_release, 4) as integer) as release_year,
        sheet_table,
        _source_file as source_file,
        cast(_row_number as integer) as source_row_number,

        {{ clean_text('mine_name') }} as mine_name,
        {{ clean_text('complex_name') }} as complex_name,
        {{ clean_text('mine_name_akas') }} as mine_name_akas,
        {{ clean_text('mine_name_local') }} as mine_name_local,
        {{ clean_text('country') }} as country_name,
        {{ gem_mine_status('status', "sheet_table = 'closed'") }} as status,
        {{ clean_text('status') }} as status_published,
        {{ clean_text('status_detail') }} as status_detail,
        {{ clean_text('project_type') }} as project_type,
        {{ clean_text('project_phase') }} as project_phase,

        {{ clean_text('owners') }} as owners,
        {{ clean_text('parent_company') }} as parent_company,
        {{ clean_text('company_hqs') }} as company_hqs,

        {{ to_double('capacity_mtpa') }} as capacity_mtpa,
        {{ to_double('production_mtpa') }} as production_mtpa,
        {{ last_year('year_of_production') }} as year_of_production,
        {{ to_double('coal_output_annual_mst') }} as coal_output_annual_mst,

        {{ clean_text('mine_type') }} as mine_type,
        {{ clean_text('mining_method') }} as mining_method,
        {{ to_double('mine_size_km2') }} as mine_size_km2,
        {{ to_double('mine_depth_m') }} as mine_depth_m,
        {{ to_int('workforce_size') }} as workforce_size,
        {{ clean_text('coal_type') }} as coal_type,
        case lower(trim(coal_grade))
            when 'thermal' then 'Thermal'
            when 'met' then 'Met'
            when 'thermal & met' then 'Thermal & Met'
            else {{ clean_text('coal_grade') }}
        end as coal_grade,

        {{ to_double('total_reserves_mt') }} as reserves_mt,
        {{ last_year('year_of_total_reserves') }} as year_of_reserves,
        {{ to_double('total_resource_mt') }} as resources_mt,
        {{ to_double('reserves_to_production_ratio') }} as rp_ratio_years,
        {{ first_year('opening_year') }} as opening_year,
        {{ clean_text('opening_year') }} as opening_year_published,
        {{ last_year('closing_year') }} as closing_year,
        {{ clean_text('reason_for_closure') }} as reason_for_closure,
        {{ clean_text('reported_life_of_mine') }} as reported_life_of_mine,

        {{ clean_text('coalfield') }} as coalfield,
        {{ clean_text('state_province') }} as state_province,
        {{ clean_text('subregion') }} as subregion,
        {{ clean_text('region') }} as region,
        {{ to_double('latitude_corrected') }} as latitude_parsed,
        {{ to_double('longitude_corrected') }} as longitude_parsed,
        {{ clean_text('location_accuracy') }} as location_accuracy,
        corrections_applied,

        -- GEM publishes the methane estimate in million tonnes CH4 per year and the CO2e
        -- figures in million tonnes; the reported CMM emissions in thousand tonnes CO2e.
        {{ to_double('gem_cmm_estimate_mt_per_yr') }} * 1000000 as cmm_estimate_t_ch4,
        {{ to_double('gem_cmm_estimate_mcm_per_yr') }} as cmm_estimate_mcm,
        {{ to_double('cmm_emissions_co2e_20yr') }} * 1000000 as cmm_emissions_20yr_t_co2e,
        {{ to_double('cmm_emissions_co2e_100yr') }} * 1000000 as cmm_emissions_100yr_t_co2e,
        {{ to_double('reported_cmm_emissions_kt_co2e') }} * 1000 as reported_cmm_emissions_t_co2e,
        {{ last_year('year_of_reported_cmm_emissions') }} as year_of_reported_cmm_emissions,

        {{ clean_text('msha_id') }} as msha_id_published

    from {{ sheet }}_rows

),
{% endfor %}

unioned as (

    select * from open_typed
    union all
    select * from closed_typed

),

countries as (

    select country_name_key, iso3 from {{ ref('int_country_names') }}

),

final as (

    select
        unioned.gem_mine_id,
        unioned.release,
        unioned.release_year,
        unioned.sheet_table,
        unioned.source_file,
        unioned.source_row_number,
        unioned.mine_name,
        unioned.complex_name,
        unioned.mine_name_akas,
        unioned.mine_name_local,
        unioned.country_name,
        countries.iso3 as country_iso3,
        unioned.status,
        unioned.status_published,
        unioned.status_detail,
        unioned.project_type,
        unioned.project_phase,
        unioned.owners,
        unioned.parent_company,
        unioned.company_hqs,
        unioned.capacity_mtpa,
        unioned.production_mtpa,
        unioned.year_of_production,
        unioned.coal_output_annual_mst,
        unioned.mine_type,
        unioned.mining_method,
        unioned.mine_size_km2,
        unioned.mine_depth_m,
        unioned.workforce_size,
        unioned.coal_type,
        unioned.coal_grade,
        unioned.reserves_mt,
        unioned.year_of_reserves,
        unioned.resources_mt,
        unioned.rp_ratio_years,
        unioned.opening_year,
        unioned.opening_year_published,
        unioned.closing_year,
        unioned.reason_for_closure,
        unioned.reported_life_of_mine,
        unioned.coalfield,
        unioned.state_province,
        unioned.subregion,
        unioned.region,
        -- Guard after the declared corrections: a coordinate still out of range is not a
        -- coordinate; it becomes null and the row is flagged (warn test lists them so a new
        -- transposition gets its row in seeds/corrections.csv).
        case when abs(unioned.latitude_parsed) <= 90 then unioned.latitude_parsed end as latitude,
        case when abs(unioned.longitude_parsed) <= 180 then unioned.longitude_parsed end as longitude,
        coalesce(abs(unioned.latitude_parsed) > 90 or abs(unioned.longitude_parsed) > 180, false) as has_invalid_coordinates,
        unioned.location_accuracy,
        unioned.corrections_applied,
        unioned.cmm_estimate_t_ch4,
        unioned.cmm_estimate_mcm,
        unioned.cmm_emissions_20yr_t_co2e,
        unioned.cmm_emissions_100yr_t_co2e,
        unioned.reported_cmm_emissions_t_co2e,
        unioned.year_of_reported_cmm_emissions,
        unioned.msha_id_published,
        (unioned.sheet_table = 'closed') as is_closed_sheet

    from unioned
    left join countries
        on countries.country_name_key = lower(trim(unioned.country_name))

)

select * from final
