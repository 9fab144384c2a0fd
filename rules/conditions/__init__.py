"""条件: the rows a marketer writes under a strategy (左括号 · 字段 · 操作符 · 值 · 右括号 · 并且/或者).

One tree, several compilers: a Python predicate with a row-by-row trace (dry run, "why didn't it
fire", backtests, the fallback matcher) and durable_rules JSON for live matching; customer
audiences add a SQL compiler on the same tree (subclass `nodes.Compiler`).
"""
from rules.conditions.durable_json import encode_fact, fact_plan, to_durable
from rules.conditions.errors import ConditionError, ConditionErrors, NotExpressible
from rules.conditions.nodes import Always, And, Comparison, Compiler, Node, Or, comparisons
from rules.conditions.operators import OPERATOR_LABELS, OPERATORS, Operator, operators_for_type, operators_metadata
from rules.conditions.parse import parse_conditions
from rules.conditions.predicate import RowTrace, compile_predicate, explain

__all__ = [
    "Always", "And", "Comparison", "Compiler", "ConditionError", "ConditionErrors", "Node", "NotExpressible",
    "OPERATORS", "OPERATOR_LABELS", "Operator", "Or", "RowTrace", "comparisons", "compile_predicate",
    "encode_fact", "explain", "fact_plan", "operators_for_type", "operators_metadata", "parse_conditions",
    "to_durable",
]
