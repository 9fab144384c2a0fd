"""Template budget (issue 9 item 7): runaway loops, huge strings and format widths in operator
templates are refused with a named reason, quickly, at save (trial render) and at render."""
from __future__ import annotations

import time

import pytest

from events.placeholders import PlaceholderError, find_variables, render_text
from events.template_budget import Budget, BudgetedSandbox, TemplateBudgetError, render, trial_render

RUNAWAY = {
    "range(10**9)": "{% for i in range(10**9) %}x{% endfor %}",
    "nested loops": "{% for i in range(3000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}",
    "nested loops over strings": "{% set s = 'ab' * 3000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
    "100 MB string": "{{ 'x' * 100000000 }}",
    "doubling": "{% set a = 'x' * 100000 %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{{ a }}",
    "captured block": "{% set a %}{% for i in range(90) %}{{ 'y' * 100000 }}{% endfor %}{% endset %}{{ a|length }}",
    "padding filter": "{{ 'x'|center(100000000) }}",
    "str method": "{{ 'x'.ljust(999999999) }}",
    "format width": "{{ '%0999999999d'|format(1) }}",
    "percent width": "{{ '%0999999999d' % 1 }}",
    "str.format width": "{{ '{:>999999999}'.format(1) }}",
    "join amplification": "{% set l = ['x' * 1000] * 200 %}{{ l|join('y' * 5000) }}",
    "replace amplification": "{% set s = 'a' * 100000 %}{{ s|replace('a', 'b' * 1000) }}",
    "huge power": "{{ 2 ** 100000000 }}",
    "output": "{% for i in range(5000) %}{{ 'z' * 200 }}{% endfor %}",
}


@pytest.mark.parametrize("source", RUNAWAY.values(), ids=RUNAWAY.keys())
def test_runaway_templates_are_refused_with_a_named_reason(source):
    env = BudgetedSandbox(autoescape=True)
    started = time.monotonic()
    with pytest.raises(TemplateBudgetError) as exc:
        render(env.from_string(source), {})
    assert time.monotonic() - started < 2
    assert str(exc.value).startswith("模板渲染超出限制：")
    assert trial_render(env.from_string(source), {}) == str(exc.value)


def test_reasonable_templates_render_unchanged():
    env = BudgetedSandbox(autoescape=True)
    source = ("你好 {{ customer.name }} {% for i in range(3) %}{{ i }}{% endfor %} {{ 'x' * 3 }} {{ '%05d' % 42 }} "
              "{{ 1000000 }} {{ '共 1000000 元 %s'|format('a') }} {{ [1, 2]|join(',') }} "
              "{% set b %}块{% endset %}{{ b }} {% set c | upper %}up{% endset %}{{ c }}")
    out = render(env.from_string(source), {"customer": {"name": "<b>张三</b>"}})
    assert out == "你好 &lt;b&gt;张三&lt;/b&gt; 012 xxx 00042 1000000 共 1000000 元 a 1,2 块 UP"


def test_budget_names_the_configured_limits():
    env = BudgetedSandbox(budget=Budget(seconds=5, steps=50, output_chars=10, value_chars=10))
    with pytest.raises(TemplateBudgetError, match="输出超过 10 个字符"):
        render(env.from_string("{% for i in range(3) %}{{ 'abcd' }}{% endfor %}"), {})
    with pytest.raises(TemplateBudgetError, match="运算超过 50 步"):
        render(env.from_string("{% for i in range(40) %}{% for j in range(40) %}{% endfor %}{% endfor %}"), {})


def test_placeholders_refuse_at_save_and_at_render():
    nested = "${% for i in range(3000) %}${% for j in range(3000) %}${% endfor %}${% endfor %}${name}"
    with pytest.raises(PlaceholderError, match="模板渲染超出限制"):
        find_variables({"body": nested})
    with pytest.raises(PlaceholderError, match="模板渲染超出限制"):  # was OverflowError: a 500
        render_text("${% for i in range(10**9) %}x${% endfor %}", {})
    with pytest.raises(PlaceholderError, match="模板渲染超出限制"):
        render_text("${ name * 100000000 }", {"name": "x"})
    assert find_variables("您好 ${name}，订单 ${order.id}") == {"name", "order"}
    assert render_text("您好 ${name}", {"name": "张三"}) == "您好 张三"
