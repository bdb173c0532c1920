"""The `filter` parameter: parsed, checked against an allowlist, rebuilt with bound values.

Accepted: known columns, string/number/boolean literals, comparisons, AND/OR/NOT, IN (...),
BETWEEN, LIKE, IS [NOT] NULL, parentheses — the grammar of docs/architecture.md ("Filters"),
e.g. `user='alice123'` or `status_code >= 500 AND url LIKE '/products/%'`. Every comparison
sets a column against literals; every literal becomes a `?` parameter, typed by its column.
The SQL that runs is generated from the accepted tree, never from the user's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.trino import Trino
from sqlglot.tokens import TokenType

from engines.quoting import quote_ident
from lakestream.core.types import column_type, sql_cast

Tokenizer = Trino.Tokenizer

MAX_FILTER_LENGTH = 2_000
MAX_LITERAL_LENGTH = 1_000  # under Athena's 1,024 characters per execution parameter
MAX_DEPTH = 40
MAX_IN_VALUES = 500

_COMPARISONS: dict[type[exp.Expression], str] = {
    exp.EQ: "=",
    exp.NEQ: "<>",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
}


class FilterError(ValueError):
    """The filter was refused; the message says what was wrong (safe to show the caller)."""


@dataclass
class CompiledFilter:
    sql: str  # with ? placeholders, identifiers quoted
    params: list[Any] = field(default_factory=list)
    columns: set[str] = field(default_factory=set)
    tree: exp.Expression | None = None  # the accepted condition as parsed (engines prune on it)


def _coerce(literal: exp.Expression, column: str, type_: str) -> Any:
    """The Python value of a literal for a column of `type_`, or a FilterError."""
    if (
        isinstance(literal, exp.Neg)
        and isinstance(literal.this, exp.Literal)
        and not literal.this.is_string
    ):
        text = "-" + literal.this.this
    elif isinstance(literal, exp.Literal):
        text = literal.this
    elif isinstance(literal, exp.Boolean):
        text = "true" if literal.this else "false"
    else:
        raise FilterError(
            f"{column} must be compared with a literal value, not {_describe(literal)}"
        )
    if type_.startswith(("struct", "array", "map")):
        raise FilterError(f"column {column} ({type_}) cannot be filtered")
    kind = column_type(type_)
    if kind is None:
        return text
    try:
        return kind.bind(text)
    except ValueError:
        raise FilterError(f"{text[:40]!r} is not a valid {type_} for column {column}") from None


def _describe(node: exp.Expression) -> str:
    return type(node).__name__.upper()


class _Compiler:
    def __init__(self, columns: dict[str, str]) -> None:
        self.columns = columns
        self.params: list[Any] = []
        self.used: set[str] = set()

    def column(self, node: exp.Expression) -> tuple[str, str]:
        if (
            not isinstance(node, exp.Column)
            or node.table
            or not isinstance(node.this, exp.Identifier)
        ):
            raise FilterError(f"expected a column name, found {_describe(node)}")
        name = node.name.lower()
        if name not in self.columns:
            known = ", ".join(sorted(self.columns))
            raise FilterError(f"unknown column {node.name[:64]!r}; the table has: {known}")
        self.used.add(name)
        return name, self.columns[name]

    def value(self, node: exp.Expression, column: str, type_: str) -> str:
        value = _coerce(node, column, type_)
        if isinstance(value, str) and len(value) > MAX_LITERAL_LENGTH:
            # Athena takes execution parameters of 1,024 characters at most.
            raise FilterError(
                f"a value compared with {column} is longer than {MAX_LITERAL_LENGTH} characters"
            )
        self.params.append(value)
        cast = sql_cast(type_)
        return f"CAST(? AS {cast})" if cast else "?"

    def compile(self, node: exp.Expression, depth: int = 0) -> str:
        if depth > MAX_DEPTH:
            raise FilterError("the filter is nested too deeply")
        if isinstance(node, exp.Paren):
            return f"({self.compile(node.this, depth + 1)})"
        if isinstance(node, exp.And | exp.Or):
            op = "AND" if isinstance(node, exp.And) else "OR"
            return (
                f"{self.compile(node.left, depth + 1)} {op} {self.compile(node.right, depth + 1)}"
            )
        if isinstance(node, exp.Not):
            return f"NOT ({self.compile(node.this, depth + 1)})"
        if type(node) in _COMPARISONS:
            left, right = node.left, node.right
            op = _COMPARISONS[type(node)]
            if not isinstance(left, exp.Column) and isinstance(right, exp.Column):
                left, right = right, left
                op = {">": "<", ">=": "<=", "<": ">", "<=": ">="}.get(op, op)
            name, type_ = self.column(left)
            return f"{quote_ident(name)} {op} {self.value(right, name, type_)}"
        if isinstance(node, exp.In):
            if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
                raise FilterError("IN takes a list of literal values, not a subquery")
            name, type_ = self.column(node.this)
            if not node.expressions or len(node.expressions) > MAX_IN_VALUES:
                raise FilterError(f"IN takes 1 to {MAX_IN_VALUES} values")
            values = ", ".join(self.value(v, name, type_) for v in node.expressions)
            return f"{quote_ident(name)} IN ({values})"
        if isinstance(node, exp.Between):
            if node.args.get("symmetric"):
                raise FilterError("BETWEEN SYMMETRIC is not supported; order the bounds")
            name, type_ = self.column(node.this)
            low = self.value(node.args["low"], name, type_)
            high = self.value(node.args["high"], name, type_)
            return f"{quote_ident(name)} BETWEEN {low} AND {high}"
        if isinstance(node, exp.Like):
            if node.args.get("escape"):
                raise FilterError("LIKE ... ESCAPE is not supported")
            name, type_ = self.column(node.this)
            if type_ != "string":
                raise FilterError(f"LIKE needs a string column; {name} is {type_}")
            pattern = node.expression
            if not (isinstance(pattern, exp.Literal) and pattern.is_string):
                raise FilterError("LIKE takes a quoted pattern, e.g. url LIKE '/products/%'")
            return f"{quote_ident(name)} LIKE {self.value(pattern, name, type_)}"
        if isinstance(node, exp.Is):
            name, _ = self.column(node.this)
            if not isinstance(node.expression, exp.Null):
                raise FilterError("IS takes NULL or NOT NULL")
            return f"{quote_ident(name)} IS NULL"
        if isinstance(node, exp.Column):
            raise FilterError(f"a bare column ({node.name[:64]}) is not a condition; compare it")
        raise FilterError(f"{_describe(node)} is not allowed in a filter")


def compile_filter(text: str, columns: dict[str, str]) -> CompiledFilter:
    """Parse `text` (Trino syntax) and rebuild it; `columns` maps lowercased names to types."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(f"the filter is longer than {MAX_FILTER_LENGTH} characters")
    if not text.strip():
        raise FilterError("the filter is empty")
    if "\x00" in text:
        raise FilterError("the filter contains a NUL character")
    if text.count("(") > MAX_DEPTH:
        raise FilterError("the filter is nested too deeply")
    try:
        tokens = Tokenizer().tokenize(text)
    except sqlglot.errors.SqlglotError:
        raise FilterError(
            "the filter does not parse; use e.g. column='value' AND other > 3"
        ) from None
    # Not part of the grammar: they only ever serve to hide or chain something.
    if any(t.token_type == TokenType.SEMICOLON for t in tokens):
        raise FilterError("';' is not allowed in a filter")
    if any(t.comments for t in tokens):
        raise FilterError("comments are not allowed in a filter")
    try:
        statements = sqlglot.parse(text, read="trino")
    except (sqlglot.errors.SqlglotError, RecursionError):
        raise FilterError(
            "the filter does not parse; use e.g. column='value' AND other > 3"
        ) from None
    statements = [s for s in statements if s is not None]
    # sqlglot reads `a='x'; DROP TABLE t` as a Block of two statements rather than failing.
    if len(statements) != 1 or isinstance(statements[0], exp.Block):
        raise FilterError("the filter must be one condition, not several statements")
    tree = statements[0]
    if tree.find(exp.Query) is not None or isinstance(tree, exp.Query | exp.Command):
        raise FilterError("the filter must be a condition, not a query or command")
    compiler = _Compiler(columns)
    sql = compiler.compile(tree)
    return CompiledFilter(sql, compiler.params, compiler.used, tree)
