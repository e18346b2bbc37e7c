{#- Country resolution shared by every silver model that names a country.

    with_iso3(relation, name_col, code_col=none, iso2_col=none) selects every column of
    `relation` plus:
      iso3        the ISO 3166-1 alpha-3 code (XKX for Kosovo), null for aggregates,
                  subnational jurisdictions, former states and unknown names;
      name_kind   country | aggregate | subnational | historical | ambiguous | unknown.
    A code given by the source (ISO3 in code_col, or ISO2 in iso2_col) wins over the name,
    unless the name is declared a non-country in seeds/country_aliases.csv (World Bank
    aggregate codes are not ISO, but the guard keeps it safe if one ever collides).
    Plain left joins: the same SQL on DuckDB and PostgreSQL. -#}
{% macro with_iso3(relation, name_col, code_col=none, iso2_col=none) -%}
    {%- set code_terms = [] -%}
    {%- if code_col %}{% do code_terms.append('rc3.iso3') %}{% endif -%}
    {%- if iso2_col %}{% do code_terms.append('rc2.iso3') %}{% endif %}
    select
        src.*,
        case when coalesce(cn.name_kind, 'country') = 'country'
             then coalesce({{ (code_terms + ['cn.iso3']) | join(', ') }})
        end as iso3,
        coalesce(
            cn.name_kind,
            {%- if code_terms %}
            case when coalesce({{ code_terms | join(', ') }}) is not null then 'country' end,
            {%- endif %}
            'unknown'
        ) as name_kind
    from {{ relation }} as src
    left join {{ ref('int_country_names') }} as cn
        on cn.country_name_key = lower(trim(src.{{ name_col }}))
    {%- if code_col %}
    left join {{ ref('stg_reference__countries') }} as rc3
        on rc3.iso3 = upper(trim(src.{{ code_col }}))
    {%- endif %}
    {%- if iso2_col %}
    left join {{ ref('stg_reference__countries') }} as rc2
        on rc2.iso2 = upper(trim(src.{{ iso2_col }}))
    {%- endif %}
{%- endmacro %}

{#- Year of an ISO timestamp text such as '2015-01-01 00:00:00' (first four characters). -#}
{% macro year_of_text(col) -%}
    {{ to_int("substr(trim(" ~ col ~ "), 1, 4)") }}
{%- endmacro %}
