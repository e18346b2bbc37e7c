{#- The model has at least min_rows rows (a floor that catches a silently emptied source). -#}
{% test row_count_min(model, min_rows) %}
select n from (select count(*) as n from {{ model }}) as counted
where n < {{ min_rows }}
{% endtest %}
