{#- GEM writes the US MSHA ID as published text: '-' when none, sometimes several IDs separated
    by commas, semicolons, slashes or spaces, sometimes in MSHA's district form '46-01453'.
    One row per release, GEM row and MSHA ID listed (position 1 = the first written). -#}

with

mines as (

    select gem_mine_id, release, sheet_table, source_row_number, msha_id_published
    from {{ ref('stg_gem_mines__mines') }}
    where msha_id_published is not null

),

normalised as (

    select
        gem_mine_id,
        release,
        sheet_table,
        source_row_number,
        msha_id_published,
        -- '46-01453' (district-ID form) -> '4601453'; then every other non-digit run is a separator
        regexp_replace(
            regexp_replace(msha_id_published, '([0-9]{2})-([0-9]{5})', '\1\2', 'g'),
            '[^0-9]+', ',', 'g'
        ) as id_list
    from mines

),

split as (

    select
        gem_mine_id,
        release,
        sheet_table,
        source_row_number,
        msha_id_published,
        split_part(trim(both ',' from id_list), ',', 1) as first_listed_text,
        {{ split_to_rows('id_list', ',') }} as msha_id_text
    from normalised

),

final as (

    select distinct
        gem_mine_id,
        release,
        sheet_table,
        source_row_number,
        cast(msha_id_text as integer) as msha_id,
        (msha_id_text = first_listed_text) as is_first_listed,
        msha_id_published
    from split
    where msha_id_text <> ''

)

select * from final
