"""A work and size budget for templates operators write (${var} message placeholders, 客户详情TABS
UI 模板).

Jinja's sandbox stops attribute tricks, not work: `range(10**9)` answered 500, nested loops took
4 s per render (a detail tab re-ran them on every page view) and `"x" * 10**8` rendered 100 MB.
`BudgetedSandbox` counts work — every call, attribute, filter, operator, loop iteration and output
chunk is a step, checked against a step count and a deadline — bounds every value it builds
(checked before the big ones are built: repetition, padding, joins, replacements, format widths,
powers) and the output, and refuses with a named reason (`TemplateBudgetError`, in Chinese).
`render` streams the output through `generate()` so it stops at the cap instead of after it.
Callers validate at save with `trial_render` (empty data) and catch the error at render.
"""
from __future__ import annotations

import re
import time
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any, Iterable, Iterator, Optional

from jinja2 import nodes
from jinja2.defaults import DEFAULT_FILTERS
from jinja2.runtime import new_context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

PREFIX = "模板渲染超出限制："
# Widths and precisions of %-formats and {:…} fields ("%0999999999d" would allocate a GB).
_FORMAT_WIDTHS = re.compile(r"%[#0\- +]*(\d*)(?:\.(\d*))?|\{[^{}]*?:[^{}]*?(\d+)(?:\.(\d+))?[^{}]*\}")
_WIDTH_FILTERS = {"center", "indent", "wordwrap", "truncate", "batch", "slice"}
_INT_BITS = 4096  # integers beyond this (about 1,200 digits) are no message's business


@dataclass(frozen=True)
class Budget:
    seconds: float = 1.0
    steps: int = 100_000
    output_chars: int = 256 * 1024
    value_chars: int = 256 * 1024


DEFAULT_BUDGET = Budget()


class TemplateBudgetError(ValueError):
    """A template needs more work or space than its budget; str() is the reason in Chinese."""


class _Meter:
    __slots__ = ("budget", "deadline", "steps")

    def __init__(self, budget: Budget):
        self.budget = budget
        self.deadline = time.monotonic() + budget.seconds
        self.steps = 0

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.budget.steps:
            raise TemplateBudgetError(f"{PREFIX}运算超过 {self.budget.steps} 步（循环或调用过多）")
        if time.monotonic() > self.deadline:
            raise TemplateBudgetError(f"{PREFIX}耗时超过 {self.budget.seconds:g} 秒")


_meter: ContextVar[Optional[_Meter]] = ContextVar("ckb_template_meter", default=None)


def _tick() -> None:
    meter = _meter.get()
    if meter is not None:
        meter.tick()


def _size(value: Any, limit: int) -> int:
    """Characters (and items) `value` stands for, counted until `limit` is passed."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, dict):
            total += len(item)
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += len(item)
            stack.extend(item)
        elif isinstance(item, int) and item.bit_length() > _INT_BITS:
            raise TemplateBudgetError(f"{PREFIX}数值过大")
    return total


def _refuse_if_over(estimate: int, limit: int) -> None:
    if estimate > limit:
        raise TemplateBudgetError(f"{PREFIX}单个值超过 {limit} 个字符")


class _Meters(NodeTransformer):
    """Rewrites a parsed template so loops and captured blocks pass through the meter."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Call(nodes.EnvironmentAttribute("budget_iter"), [node.iter], [], None, None,
                               lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Call(nodes.EnvironmentAttribute("budget_value"), [node], [], None, None, lineno=node.lineno)

    def visit_AssignBlock(self, node: nodes.AssignBlock) -> nodes.Node:
        self.generic_visit(node)
        node.filter = nodes.Filter(node.filter, "budget_value", [], [], None, None, lineno=node.lineno)
        return node


class BudgetedSandbox(ImmutableSandboxedEnvironment):
    """Immutable sandbox (no list.append/extend doubling) with the budget of this module."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, *args: Any, budget: Budget = DEFAULT_BUDGET, **kwargs: Any):
        finalize = kwargs.pop("finalize", None)
        super().__init__(*args, finalize=self._finalizer(finalize), **kwargs)
        self.budget = budget
        self.globals["range"] = self.budget_range
        self.globals.pop("namespace", None)  # a namespace carries values across loop iterations
        self.filters = {name: self._guard(name, f) for name, f in DEFAULT_FILTERS.items()}
        self.filters["budget_value"] = self.budget_value

    # -- rewriting and meters -------------------------------------------------------------------
    def _parse(self, source, name, filename):
        return _Meters().visit(super()._parse(source, name, filename))

    def _finalizer(self, inner):
        def finalize(value):
            _tick()
            value = inner(value) if inner is not None else value
            return self.budget_value(value)
        return finalize

    def budget_value(self, value: Any) -> Any:
        _refuse_if_over(_size(value, self.budget.value_chars), self.budget.value_chars)
        return value

    def budget_iter(self, iterable: Iterable) -> Iterator:
        for item in iterable:
            _tick()
            yield item

    def budget_range(self, *args: int) -> range:
        numbers = range(*args)
        if len(numbers) > self.budget.steps:
            raise TemplateBudgetError(f"{PREFIX}range 超过 {self.budget.steps} 项")
        return numbers

    def _check_format(self, fmt: Any, args: Iterable = ()) -> None:
        if isinstance(fmt, str):
            for match in _FORMAT_WIDTHS.finditer(fmt):
                for number in filter(None, match.groups()):
                    if len(number) > 7 or int(number) > self.budget.value_chars:
                        raise TemplateBudgetError(f"{PREFIX}格式宽度 {number[:12]} 过大")
            if "*" in fmt:  # "%*d" takes its width from the arguments
                self._check_int_args(args if isinstance(args, (list, tuple)) else (args,), {})

    def _check_int_args(self, args: Iterable, kwargs: dict) -> None:
        for arg in list(args) + list(kwargs.values()):
            if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > self.budget.value_chars:
                raise TemplateBudgetError(f"{PREFIX}参数 {str(arg)[:20]} 过大")

    # -- the sandbox's hooks --------------------------------------------------------------------
    def call_binop(self, context, operator, left, right):
        _tick()
        limit = self.budget.value_chars
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
            if right > 0 and left.bit_length() * right > _INT_BITS:
                raise TemplateBudgetError(f"{PREFIX}数值过大")
        elif operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(times, int) and isinstance(seq, (str, bytes, list, tuple)):
                    _refuse_if_over(_size(seq, limit) * max(times, 0), limit)
        elif operator == "%":
            self._check_format(left, right)
        return self.budget_value(super().call_binop(context, operator, left, right))

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        _tick()
        target = getattr(__obj, "__self__", None)
        if isinstance(target, str):  # ljust/center/zfill widths, and the methods that multiply
            __self._check_int_args(args, kwargs)
        if isinstance(target, str) and args:
            name, limit = getattr(__obj, "__name__", ""), __self.budget.value_chars
            if name == "join":
                _refuse_if_over(_size(args[0], limit) * (len(target) + 1), limit)
            elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
                _refuse_if_over(len(target) + (target.count(args[0]) + 1) * len(args[1]), limit)
            elif name == "expandtabs" and isinstance(args[0], int):
                _refuse_if_over(len(target) + target.count("\t") * args[0], limit)
        return __self.budget_value(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj, attribute):
        _tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        _tick()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value):
        if getattr(value, "__name__", "") in ("format", "format_map"):
            self._check_format(getattr(value, "__self__", None))
        return super().wrap_str_format(value)

    def _guard(self, name: str, func):
        """A built-in filter with its growth checked before it runs and its result after."""
        skip = 2 if hasattr(func, "jinja_pass_arg") else 1  # (context/env,) value, then arguments

        @wraps(func)
        def guarded(*args, **kwargs):
            _tick()
            if name in _WIDTH_FILTERS:
                self._check_int_args(args[skip:], kwargs)
            value, rest, limit = (args[skip - 1] if len(args) >= skip else None), args[skip:], self.budget.value_chars
            if name == "format":
                self._check_format(value, rest)
            elif name == "join":
                sep = rest[0] if rest else kwargs.get("d", "")
                _refuse_if_over(_size(value, limit) * (len(str(sep)) + 1), limit)
            elif name == "replace" and len(rest) >= 2 and isinstance(value, str):
                _refuse_if_over(len(value) + (value.count(str(rest[0])) + 1) * len(str(rest[1])), limit)
            elif name in ("indent", "wordwrap", "center") and isinstance(value, str):
                width = rest[0] if rest and isinstance(rest[0], int) else 80
                _refuse_if_over(len(value) + (value.count("\n") + 1) * width, limit)
            return self.budget_value(func(*args, **kwargs))

        return guarded


def render(template, data: dict, budget: Optional[Budget] = None) -> str:
    """The template's output, built chunk by chunk under a fresh meter; TemplateBudgetError when
    it needs more steps, time or room than the budget (of the template's environment)."""
    env = template.environment
    budget = budget or getattr(env, "budget", DEFAULT_BUDGET)
    token = _meter.set(_Meter(budget))
    try:
        out, size = [], 0
        try:
            for chunk in template.root_render_func(_context(template, data)):
                size += len(chunk)
                if size > budget.output_chars:
                    raise TemplateBudgetError(f"{PREFIX}输出超过 {budget.output_chars} 个字符")
                _tick()
                out.append(chunk)
        except TemplateBudgetError:
            raise
        except Exception:  # noqa: BLE001 - as Template.generate: the same error, its traceback pointing into the template
            env.handle_exception()
        return "".join(out)
    finally:
        _meter.reset(token)


def _context(template, data: dict):
    """What Template.generate builds, without its cost: generate merges the template's globals
    (a ChainMap over the environment's) into a new dict and copies their keys into a set on every
    render — iterating a ChainMap was a quarter of a 写日志 render. The globals are flattened once
    per compiled template instead; the key set only serves `{% import %}`, which these string
    templates cannot do (no loader), so the context gets none. Data overrides globals, as there."""
    flat = template.__dict__.get("_ckb_flat_globals")
    if flat is None:
        flat = template._ckb_flat_globals = dict(template.globals)
    return new_context(template.environment, template.name, template.blocks, {**flat, **data}, shared=True)


def trial_render(template, data: dict) -> Optional[str]:
    """At save: the budget's refusal reason when rendering `template` with sample `data` exceeds
    it, else None. Other failures (data the sample lacks) are the render's business, not this."""
    try:
        render(template, data)
    except TemplateBudgetError as exc:
        return str(exc)
    except Exception:  # noqa: BLE001 - a sample cannot tell a data error from a template error
        return None
    return None
