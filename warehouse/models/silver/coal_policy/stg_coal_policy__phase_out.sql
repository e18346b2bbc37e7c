{#- Beyond Coal coal-exit timeline (OWID grapher export), one row per country.
    The export's `year` is the announced exit year for countries with a plan ("Phase out by
    2030" -> 2025..2030; "Phase out in 2040s" -> 2049, the end of the decade) and the data year
    for countries already coal free. Parsed into:
      phase_out_status  coal_free | phase_out_planned | under_consideration | no_commitment | other
      phase_out_year    the exit year (a year written in the text wins; else the export's year);
                        null for coal-free countries and countries without a plan
      phase_out_deadline_year  the decade bound named in the text ("by 2030" -> 2030, "2040s" -> 2049)
      is_phase_out_year_approximate  true when the year only names a decade ("in 2040s")
      snapshot_year     the data year of the export (the year OWID gives coal-free countries),
                        i.e. the year these statuses were observed. -#}
with source as (
    select * from {{ source('coal_policy', 'raw_coal_policy__phase_out') }}
),

typed as (
    select
        trim(entity) as entity,
        nullif(trim(iso3_code), '') as owid_code,
        {{ to_int('year') }} as listed_year,
        trim(coal_exit_timeline) as coal_exit_timeline,
        lower(trim(coal_exit_timeline)) as timeline_lc,
        _source_file,
        _row_number,
        _release
    from source
),

parsed as (
    select
        *,
        case
            when timeline_lc like '%coal free%' or timeline_lc like '%coal-free%' then 'coal_free'
            when timeline_lc like '%consideration%' then 'under_consideration'
            when timeline_lc like '%no %commitment%' or timeline_lc like '%not committed%' then 'no_commitment'
            when timeline_lc like '%phase%out%' or {{ to_int('coal_exit_timeline') }} is not null then 'phase_out_planned'
            else 'other'
        end as phase_out_status,
        case
            when {{ to_int('coal_exit_timeline') }} between 1900 and 2100 then {{ to_int('coal_exit_timeline') }}
            when timeline_lc like '%by 20__%' then {{ to_int("substr(timeline_lc, strpos(timeline_lc, 'by 20') + 3, 4)") }}
            when timeline_lc like '%20_0s%' then {{ to_int("substr(timeline_lc, strpos(timeline_lc, '0s') - 3, 3)") }} * 10 + 9
        end as phase_out_deadline_year,
        timeline_lc like '%20_0s%' as is_phase_out_year_approximate
    from typed
),

with_years as (
    select
        *,
        case
            when phase_out_status <> 'phase_out_planned' then null
            when {{ to_int('coal_exit_timeline') }} between 1900 and 2100 then {{ to_int('coal_exit_timeline') }}
            else coalesce(listed_year, phase_out_deadline_year)
        end as phase_out_year,
        max(case when phase_out_status = 'coal_free' then listed_year end) over () as snapshot_year
    from parsed
),

resolved as (
    {{ with_iso3('with_years', 'entity', code_col='owid_code') }}
),

final as (
    select
        entity,
        owid_code,
        iso3,
        name_kind,
        coal_exit_timeline,
        phase_out_status,
        phase_out_status = 'coal_free' as is_coal_free,
        phase_out_year,
        phase_out_deadline_year,
        is_phase_out_year_approximate,
        listed_year,
        snapshot_year,
        _source_file,
        _row_number,
        _release
    from resolved
)

select * from final
