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
    if (inner := _as_date(node)) is not None:
        value = _value(inner, values)
        return value if value is not None and DATE.fullmatch(value) else None
    if isinstance(node, exp.Literal) and node.is_string:
        return node.this
    if isinstance(node, exp.Placeholder) and isinstance(values.get(id(node)), str):
        return values[id(node)]
    return None


def prune(partitions: list[str], table: exp.Table, values: dict[int, Any]) -> list[str]:
    """The partitions a query on `table` can touch, judged from its WHERE on dt (safe subset)."""
    select = table.find_ancestor(exp.Select)
    if select is None:
        return partitions
    names = {table.name.lower(), (table.alias or "").lower()}
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

    def value_for(dt: exp.Expression, node: exp.Expression) -> str | None:
        # Against CAST(dt AS DATE) the engine compares dates: only an ISO date keeps its order
        # as text ('2024-1-5' is a date to DuckDB but sorts after '2024-01-10').
        value = _value(node, values)
        if value is not None and _as_date(dt) is not None and not DATE.fullmatch(value):
            return None
        return value

    def judged(dt: exp.Expression, kept: set[str]) -> set[str]:
        # Under CAST(dt AS DATE) a partition whose value is not an ISO date ('2024-1-5') is a
        # date to the engine but not in text order: it is kept, never judged.
        if _as_date(dt) is None:
            return kept
        return kept | {p for p in keep if not DATE.fullmatch(p)}

    for cond in _conjuncts(condition):
        ops = {exp.EQ: "=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}
        if type(cond) in ops:
            left, right, op = cond.left, cond.right, ops[type(cond)]
            if is_dt(right):
                left, right = right, left
                op = {"=": "=", ">": "<", ">=": "<=", "<": ">", "<=": ">="}[op]
            value = value_for(left, right)
            if is_dt(left) and value is not None:
                test = {
                    "=": lambda p, v=value: p == v,
                    ">": lambda p, v=value: p > v,
                    ">=": lambda p, v=value: p >= v,
                    "<": lambda p, v=value: p < v,
                    "<=": lambda p, v=value: p <= v,
                }[op]
                keep = judged(left, {p for p in keep if test(p)})
        elif isinstance(cond, exp.In) and is_dt(cond.this) and not cond.args.get("query"):
            options = [value_for(cond.this, e) for e in cond.expressions]
            if options and all(o is not None for o in options):
                keep = judged(cond.this, keep & set(options))
        elif isinstance(cond, exp.Between) and is_dt(cond.this) and not cond.args.get("symmetric"):
            low, high = (
                value_for(cond.this, cond.args["low"]),
                value_for(cond.this, cond.args["high"]),
            )
            if low is not None and high is not None:
                keep = judged(cond.this, {p for p in keep if low <= p <= high})
    return sorted(keep)
