{#- Every row satisfies a SQL boolean expression (identities such as lo <= hi). -#}
{% test expression_is_true(model, expression) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
