"""Partition pruning: which `dt` partitions a query on a table can touch, judged from its WHERE.

Only a safe subset is understood (=, <, <=, >, >=, IN, BETWEEN on string literals or bound
string parameters, AND-ed); anything else keeps every partition. `CAST(dt AS DATE)` compared
with ISO dates (`CAST(? AS DATE)`, as the saved analyses write it) counts too: for ISO dates
the text order is the date order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

from lakestream.core.datasets import PARTITION_KEY
from lakestream.core.types import DATE


def _conjuncts(condition: exp.Expression | None) -> list[exp.Expression]:
    if condition is None:
        return []
    if isinstance(condition, exp.And):
        return _conjuncts(condition.left) + _conjuncts(condition.right)
    if isinstance(condition, exp.Paren):
        return _conjuncts(condition.this)
    return [condition]


def _as_date(node: exp.Expression) -> exp.Expression | None:
    """What `CAST(<x> AS DATE)` casts, else None."""
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.DATE):
        return node.this
    return None


def _value(node: exp.Expression, values: dict[int, Any]) -> str | None:
    """The text a literal, a bound parameter or a DATE cast of either stands for; `_keep`
    decides whether it may be compared as text."""
    if (inner := _as_date(node)) is not None:
        return _value(inner, values)
    if isinstance(node, exp.Literal) and node.is_string:
        return node.this
    if isinstance(node, exp.Placeholder) and isinstance(values.get(id(node)), str):
        return values[id(node)]
    return None


def placeholders_in_order(tree: exp.Expression) -> list[exp.Placeholder]:
    """The statement's `?` in the order DuckDB binds them: the order of its SQL text. sqlglot's
    own walk follows its argument order instead (a SELECT's LIMIT before its WHERE, the WITH
    last), which would give a placeholder another one's value."""
    found = list(tree.find_all(exp.Placeholder, bfs=False))
    marked = tree.copy()  # the same walk on the copy meets the same placeholders in turn
    for i, node in enumerate(marked.find_all(exp.Placeholder, bfs=False)):
        node.replace(exp.Literal.string(f"\x00{i}\x00"))
    text = marked.sql(dialect="duckdb")
    return [found[i] for i in sorted(range(len(found)), key=lambda i: text.index(f"\x00{i}\x00"))]


def prune(partitions: list[str], table: exp.Table, values: dict[int, Any]) -> list[str]:
    """The partitions a query on `table` can touch, judged from its WHERE on dt (safe subset)."""
    select = table.find_ancestor(exp.Select)
    if select is None:
        return partitions
    # An aliased table answers to its alias only: SQL hides its name behind it.
    names = {(table.alias or table.name).lower()}
    # Only the FROM/JOIN tables of this SELECT: a dt column of another table must not prune us.
    sources = [t for t in select.find_all(exp.Table) if t.find_ancestor(exp.Select) is select]
    unqualified_ok = len(sources) == 1

    def is_dt(node: exp.Expression) -> bool:
        node = _as_date(node) or node
        if not isinstance(node, exp.Column) or node.name.lower() != PARTITION_KEY:
            return False
        return (node.table.lower() in names) if node.table else unqualified_ok

    return _keep(partitions, select.args.get("where") and select.args["where"].this, is_dt, values)


def prune_where(partitions: list[str], condition: exp.Expression | None) -> list[str]:
    """The partitions a single-table condition (a parsed API filter, literals in place) allows."""

    def is_dt(node: exp.Expression) -> bool:
        return isinstance(node, exp.Column) and node.name.lower() == PARTITION_KEY

    return _keep(partitions, condition, is_dt, {})


def _keep(
    partitions: list[str],
    condition: exp.Expression | None,
    is_dt: Callable[[exp.Expression], bool],
    values: dict[int, Any],
) -> list[str]:
    keep = set(partitions)

    # With a DATE on either side (CAST(dt AS DATE), DATE '…', CAST(? AS DATE)) the engine
    # compares dates, and only ISO dates keep their order as text: a value that is not one
    # prunes nothing, and a partition that is not one ('2024-1-5') is kept, never judged.
    def dated(dt: exp.Expression, others: list[exp.Expression]) -> bool:
        return any(_as_date(n) is not None for n in (dt, *others))

    def judge(dt: exp.Expression, others: list[exp.Expression]) -> list[str | None]:
        found = [_value(n, values) for n in others]
        if dated(dt, others):
            return [v if v is not None and DATE.fullmatch(v) else None for v in found]
        return found

    def kept(dt: exp.Expression, others: list[exp.Expression], chosen: set[str]) -> set[str]:
        if not dated(dt, others):
            return chosen
        return chosen | {p for p in keep if not DATE.fullmatch(p)}

    for cond in _conjuncts(condition):
        ops = {exp.EQ: "=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}
        if type(cond) in ops:
            left, right, op = cond.left, cond.right, ops[type(cond)]
            if is_dt(right):
                left, right = right, left
                op = {"=": "=", ">": "<", ">=": "<=", "<": ">", "<=": ">="}[op]
            [value] = judge(left, [right])
            if is_dt(left) and value is not None:
                test = {
                    "=": lambda p, v=value: p == v,
                    ">": lambda p, v=value: p > v,
                    ">=": lambda p, v=value: p >= v,
                    "<": lambda p, v=value: p < v,
                    "<=": lambda p, v=value: p <= v,
                }[op]
                keep = kept(left, [right], {p for p in keep if test(p)})
        elif isinstance(cond, exp.In) and is_dt(cond.this) and not cond.args.get("query"):
            options = judge(cond.this, cond.expressions)
            if options and all(o is not None for o in options):
                keep = kept(cond.this, cond.expressions, keep & set(options))
        elif isinstance(cond, exp.Between) and is_dt(cond.this) and not cond.args.get("symmetric"):
            bounds = [cond.args["low"], cond.args["high"]]
            low, high = judge(cond.this, bounds)
            if low is not None and high is not None:
                keep = kept(cond.this, bounds, {p for p in keep if low <= p <= high})
    return sorted(keep)
