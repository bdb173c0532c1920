"""Athena SQL on the local lake: Trino SQL in, rows out, DuckDB underneath.

Tables are resolved from the Glue catalog (location, columns, partitions), exactly as Athena
does, and read by DuckDB straight from the S3 endpoint. Only registered partitions are read,
and simple predicates on `dt` prune them before any object is touched. `?` parameters are
bound by DuckDB, never pasted into the SQL. The DuckDB session cannot read local files or
change its own configuration, so a query can only reach the lake.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import sqlglot
from sqlglot import exp

from glue.catalog import GlueCatalog, TableInfo, UnknownTable
from glue.quoting import quote_ident, quote_string
from glue.schema import to_duckdb
from lakestream.core import clients
from lakestream.core.datasets import PARTITION_KEY
from lakestream.core.errors import LakestreamError
from lakestream.core.settings import Settings

DEFAULT_TIMEOUT_S = 60.0


class QueryError(LakestreamError):
    """kind: bad_sql | bad_parameter | unknown_table | timeout | engine."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    scanned_partitions: dict[str, list[str]] = field(default_factory=dict)
    engine_sql: str = ""

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def httpfs_extension_path() -> str:
    import duckdb_extension_httpfs

    root = os.path.join(os.path.dirname(duckdb_extension_httpfs.__file__), "extensions")
    for folder, _, files in os.walk(root):
        for name in files:
            if name == "httpfs.duckdb_extension":
                return os.path.join(folder, name)
    raise LakestreamError("the duckdb-extension-httpfs wheel holds no httpfs extension")


class LocalAthena:
    def __init__(self, settings: Settings, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.settings = settings
        self.timeout = timeout
        self.catalog = GlueCatalog(settings)
        self.s3 = clients.aws_client(settings, "s3")
        self._lock = threading.Lock()
        self._con = self._connect()

    def _connect(self) -> Any:
        import duckdb

        s = self.settings
        con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                     "autoload_known_extensions": False})  # fmt: skip
        con.execute(f"LOAD {quote_string(httpfs_extension_path())}")
        endpoint = urlsplit(s.aws_endpoint_url or f"https://s3.{s.aws_region}.amazonaws.com")
        secret = s.aws_secret_access_key.get_secret_value() if s.aws_secret_access_key else ""
        # CREATE SECRET takes no bound parameters: values are quoted as SQL strings.
        use_ssl = "true" if endpoint.scheme == "https" else "false"
        con.execute(
            f"CREATE SECRET lake (TYPE s3, KEY_ID {quote_string(s.aws_access_key_id or '')}, "
            f"SECRET {quote_string(secret)}, REGION {quote_string(s.aws_region)}, "
            f"ENDPOINT {quote_string(endpoint.netloc)}, URL_STYLE 'path', USE_SSL {use_ssl})"
        )
        # Queries reach the lake and nothing else; then the configuration is frozen.
        con.execute("SET disabled_filesystems = 'LocalFileSystem'")
        con.execute("SET lock_configuration = true")
        return con

    # -- catalog -------------------------------------------------------------------------------

    def table(self, name: str, database: str | None = None) -> TableInfo:
        return self.catalog.table(name, database)

    def tables(self) -> list[str]:
        return self.catalog.tables()

    # -- execution -----------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> QueryResult:
        tree = self._parse(sql)
        placeholders = list(tree.find_all(exp.Placeholder, bfs=False))
        if len(placeholders) != len(params):
            raise QueryError(
                "bad_parameter",
                f"the query has {len(placeholders)} '?' parameters "
                f"but {len(params)} values were given",
            )
        values = {id(p): params[i] for i, p in enumerate(placeholders)}
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        views: list[tuple[str, str]] = []
        scanned: dict[str, list[str]] = {}
        for node in list(tree.find_all(exp.Table)):
            if not isinstance(node.this, exp.Identifier):
                raise QueryError(
                    "bad_sql", "only tables of the Glue database can be read, not table functions"
                )
            if node.name in ctes and not node.db:
                continue
            if node.args.get("catalog") is not None:
                raise QueryError(
                    "unknown_table",
                    f"catalog-qualified table {node.sql('trino')!r} is not supported",
                )
            try:
                info = self.table(node.name, node.db or None)
            except UnknownTable as exc:
                raise QueryError("unknown_table", str(exc)) from None
            partitions = _prune(info.partitions, node, values)
            scanned[info.name] = sorted(set(scanned.get(info.name, [])) | set(partitions))
            view = f"lake_{info.name}_{uuid.uuid4().hex[:8]}"
            views.append((view, self._view_sql(info, partitions)))
            alias = node.alias or info.name
            node.replace(
                exp.Table(
                    this=exp.to_identifier(view),
                    alias=exp.TableAlias(this=exp.to_identifier(alias)),
                )
            )
        engine_sql = tree.sql(dialect="duckdb")
        with self._lock:
            try:
                for view, body in views:
                    self._con.execute(f"CREATE TEMP VIEW {quote_ident(view)} AS {body}")
                columns, rows = self._run(engine_sql, list(params))
            finally:
                for view, _ in views:
                    self._con.execute(f"DROP VIEW IF EXISTS {quote_ident(view)}")
        return QueryResult(columns, rows, scanned, engine_sql)

    def _parse(self, sql: str) -> exp.Expression:
        if not sql or not sql.strip():
            raise QueryError("bad_sql", "the query is empty")
        try:
            statements = [s for s in sqlglot.parse(sql, read="trino") if s is not None]
        except sqlglot.errors.SqlglotError as exc:
            first = str(exc).splitlines()[0]
            raise QueryError("bad_sql", f"the SQL does not parse: {first}") from None
        if len(statements) != 1 or isinstance(statements[0], exp.Block):
            raise QueryError("bad_sql", "send exactly one statement")
        tree = statements[0]
        if not isinstance(tree, exp.Query):
            raise QueryError(
                "bad_sql", f"only queries (SELECT) are allowed, not {tree.key.upper()}"
            )
        return tree

    def _view_sql(self, info: TableInfo, partitions: list[str]) -> str:
        selects = [
            f"CAST({quote_ident(info.key_of[n])} AS {to_duckdb(t)}) AS {quote_ident(n)}"
            for n, t in info.columns
        ]
        # Every name below is quoted with _ident and every value with _sql_string: the view text
        # holds catalog names and S3 paths, never query input (that is bound as parameters).
        base = info.location if info.location.endswith("/") else info.location + "/"
        if not partitions or not self._has_objects(base):
            nulls = [f"CAST(NULL AS {to_duckdb(t)}) AS {quote_ident(n)}" for n, t in info.columns]
            nulls.append(f"CAST(NULL AS VARCHAR) AS {PARTITION_KEY}")
            return f"SELECT {', '.join(nulls)} WHERE false"
        # One glob over every partition, filtered to the registered (and pruned) ones: DuckDB
        # drops the other files before reading, and an emptied partition is no error.
        files = quote_string(f"{base}{PARTITION_KEY}=*/*")
        wanted = ", ".join(quote_string(p) for p in partitions)
        hive = f"hive_partitioning = true, hive_types = {{'{PARTITION_KEY}': 'VARCHAR'}}"
        if info.format == "parquet":
            source = f"read_parquet({files}, {hive}, union_by_name = true)"
            present = {
                row[0].lower()
                for row in self._con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()  # noqa: S608
            }
            selects = [
                s if n.lower() in present else f"CAST(NULL AS {to_duckdb(t)}) AS {quote_ident(n)}"
                for s, (n, t) in zip(selects, info.columns, strict=True)
            ]
        else:
            typed = ", ".join(
                f"{quote_string(info.key_of[n])}: {quote_string(to_duckdb(t))}"
                for n, t in info.columns
            )
            source = (
                f"read_json({files}, format = 'newline_delimited', {hive}, columns = {{{typed}}})"
            )
        columns = ", ".join([*selects, PARTITION_KEY])
        return f"SELECT {columns} FROM {source} WHERE {PARTITION_KEY} IN ({wanted})"  # noqa: S608

    def _has_objects(self, location: str) -> bool:
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        listed = self.s3.list_objects_v2(
            Bucket=bucket, Prefix=f"{prefix}{PARTITION_KEY}=", MaxKeys=1
        )
        return listed.get("KeyCount", 0) > 0

    def _run(self, sql: str, params: list[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        import duckdb

        timer = threading.Timer(self.timeout, self._con.interrupt)
        timer.start()
        try:
            cursor = self._con.execute(sql, params)
            columns = [d[0] for d in cursor.description or []]
            return columns, cursor.fetchall()
        except duckdb.InterruptException:
            raise QueryError("timeout", f"the query ran longer than {self.timeout:.0f}s") from None
        except (duckdb.BinderException, duckdb.ParserException, duckdb.CatalogException) as exc:
            raise QueryError("bad_sql", _first_line(exc)) from None
        except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
            raise QueryError("bad_parameter", _first_line(exc)) from None
        except duckdb.Error as exc:
            raise QueryError("engine", _first_line(exc)) from None
        finally:
            timer.cancel()

    def close(self) -> None:
        self._con.close()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]


# -- partition pruning ---------------------------------------------------------------------------


def _conjuncts(condition: exp.Expression | None) -> list[exp.Expression]:
    if condition is None:
        return []
    if isinstance(condition, exp.And):
        return _conjuncts(condition.left) + _conjuncts(condition.right)
    if isinstance(condition, exp.Paren):
        return _conjuncts(condition.this)
    return [condition]


def _value(node: exp.Expression, values: dict[int, Any]) -> str | None:
    if isinstance(node, exp.Literal) and node.is_string:
        return node.this
    if isinstance(node, exp.Placeholder) and isinstance(values.get(id(node)), str):
        return values[id(node)]
    return None


def _prune(partitions: list[str], table: exp.Table, values: dict[int, Any]) -> list[str]:
    """The partitions a query on `table` can touch, judged from its WHERE on dt (safe subset)."""
    select = table.find_ancestor(exp.Select)
    if select is None:
        return partitions
    names = {table.name.lower(), (table.alias or "").lower()}
    # Only the FROM/JOIN tables of this SELECT: a dt column of another table must not prune us.
    sources = [t for t in select.find_all(exp.Table) if t.find_ancestor(exp.Select) is select]
    unqualified_ok = len(sources) == 1

    def is_dt(node: exp.Expression) -> bool:
        if not isinstance(node, exp.Column) or node.name.lower() != PARTITION_KEY:
            return False
        return (node.table.lower() in names) if node.table else unqualified_ok

    keep = set(partitions)
    for cond in _conjuncts(select.args.get("where") and select.args["where"].this):
        ops = {exp.EQ: "=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}
        if type(cond) in ops:
            left, right, op = cond.left, cond.right, ops[type(cond)]
            if is_dt(right):
                left, right = right, left
                op = {"=": "=", ">": "<", ">=": "<=", "<": ">", "<=": ">="}[op]
            value = _value(right, values)
            if is_dt(left) and value is not None:
                test = {
                    "=": lambda p, v=value: p == v,
                    ">": lambda p, v=value: p > v,
                    ">=": lambda p, v=value: p >= v,
                    "<": lambda p, v=value: p < v,
                    "<=": lambda p, v=value: p <= v,
                }[op]
                keep = {p for p in keep if test(p)}
        elif isinstance(cond, exp.In) and is_dt(cond.this) and not cond.args.get("query"):
            options = [_value(e, values) for e in cond.expressions]
            if options and all(o is not None for o in options):
                keep &= set(options)
        elif isinstance(cond, exp.Between) and is_dt(cond.this):
            low, high = _value(cond.args["low"], values), _value(cond.args["high"], values)
            if low is not None and high is not None:
                keep = {p for p in keep if low <= p <= high}
    return sorted(keep)
