"""The local engine: Athena SQL on the local lake, Trino SQL in, rows out, DuckDB underneath.

Tables are resolved from the Glue catalog (location, columns, partitions), exactly as Athena
does, and read by DuckDB straight from the S3 endpoint. Only registered partitions are read,
and simple predicates on `dt` prune them before any object is touched. `?` parameters are
bound by DuckDB, never pasted into the SQL. The DuckDB session cannot read local files or
change its own configuration, so a query can only reach the lake.

SQL text is parsed once, here (a caller that parsed it already hands down the tree). A
`TableQuery` is not parsed at all: its table is the one the caller resolved, and its parts are
written straight into DuckDB's SQL. The converter (`lake_type`) gives each result column its
type in the lake's vocabulary; the formatter is DuckDB's own binding of Python values.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import duckdb
import duckdb_extension_avro
import duckdb_extension_httpfs
import duckdb_extension_iceberg
import sqlglot
from sqlglot import exp

from engines.base import GlueTables, QueryResult, Statement, TableQuery
from engines.pruning import placeholders_in_order, prune, prune_where
from engines.quoting import quote_ident, quote_string
from engines.tables import GlueCatalog, TableInfo
from lakestream.core import layout
from lakestream.core.datasets import PARTITION_KEY
from lakestream.core.errors import (
    BadParameter,
    BadSql,
    EngineFailure,
    LakestreamError,
    QueryTimeout,
    UnknownTable,
)
from lakestream.core.formats import BY_CLASSIFICATION
from lakestream.core.settings import Settings
from lakestream.core.types import duckdb_type as to_duckdb

DEFAULT_TIMEOUT_S = 60.0


# The extensions come from their wheels: none can be downloaded at run time. avro first: the
# iceberg extension would otherwise try to fetch it.
EXTENSIONS = (
    (duckdb_extension_httpfs, "httpfs"),
    (duckdb_extension_avro, "avro"),
    (duckdb_extension_iceberg, "iceberg"),
)


# DuckDB's scalar types in the lake's (Glue's) vocabulary; nested ones are spelled out below.
# The local engine stands in for Athena, so a result is typed as Athena would type it: DuckDB
# widens SUM over integers to HUGEINT where Trino keeps bigint.
LAKE_TYPES = {
    "varchar": "string", "uuid": "string", "bigint": "bigint", "integer": "int",
    "smallint": "smallint", "tinyint": "tinyint", "double": "double", "float": "float",
    "boolean": "boolean", "date": "date", "timestamp": "timestamp", "timestamp_ms": "timestamp",
    "timestamp_s": "timestamp", "timestamp_ns": "timestamp",
    "timestamp with time zone": "timestamp", "blob": "binary", "hugeint": "bigint",
    "ubigint": "decimal(20,0)", "uinteger": "bigint", "usmallint": "int", "utinyint": "smallint",
}  # fmt: skip


def lake_type(duck: Any) -> str:
    """The converter: a DuckDB result type (cursor.description) as the lake's type name."""
    kind = duck.id
    if kind == "decimal":
        precision, scale = (value for _, value in duck.children)
        return f"decimal({precision},{scale})"
    if kind == "list":
        return f"array<{lake_type(duck.children[0][1])}>"
    if kind == "struct":
        return "struct<" + ",".join(f"{n}:{lake_type(t)}" for n, t in duck.children) + ">"
    if kind == "map":
        (_, key), (_, value) = duck.children
        return f"map<{lake_type(key)},{lake_type(value)}>"
    return LAKE_TYPES.get(kind, "string")


def extension_path(package: ModuleType, name: str) -> str:
    root = os.path.join(os.path.dirname(package.__file__ or ""), "extensions")
    for folder, _, files in os.walk(root):
        for file in files:
            if file == f"{name}.duckdb_extension":
                return os.path.join(folder, file)
    raise LakestreamError(f"the duckdb-extension-{name} wheel holds no {name} extension")


class LocalEngine(GlueTables):
    name = "local"

    def __init__(
        self,
        settings: Settings,
        timeout: float = DEFAULT_TIMEOUT_S,
        file_cache: bool = True,
        catalog_max_age: float = 0.0,
    ) -> None:
        self.settings = settings
        self.timeout = timeout
        self.file_cache = file_cache  # off: every query reads from S3 (benchmarks measure that)
        self.catalog = GlueCatalog(settings, catalog_max_age)
        # A DuckDB database per thread, made on its first query: threads (the API's gunicorn
        # threads, the bench's clients) query at the same time, and each database's HTTP log
        # counts only its own query's bytes. Setting one up takes ~0.1 s, once per thread.
        self._local = threading.local()
        self._all: list[Any] = []
        self._all_lock = threading.Lock()
        self._con  # noqa: B018 - fail now, not on the first query, if the extensions do not load

    @property
    def _con(self) -> Any:
        """This thread's DuckDB connection, made on first use."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
            with self._all_lock:
                self._all.append(con)
        return con

    def _connect(self) -> Any:

        s = self.settings
        con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                     "autoload_known_extensions": False})  # fmt: skip
        for package, name in EXTENSIONS:
            con.execute(f"LOAD {quote_string(extension_path(package, name))}")
        endpoint = urlsplit(s.aws_endpoint_url or f"https://s3.{s.aws_region}.amazonaws.com")
        secret = s.aws_secret_access_key.get_secret_value() if s.aws_secret_access_key else ""
        token = s.aws_session_token.get_secret_value() if s.aws_session_token else ""
        # CREATE SECRET takes no bound parameters: values are quoted as SQL strings.
        use_ssl = "true" if endpoint.scheme == "https" else "false"
        session = f"SESSION_TOKEN {quote_string(token)}, " if token else ""
        con.execute(
            f"CREATE SECRET lake (TYPE s3, KEY_ID {quote_string(s.aws_access_key_id or '')}, "
            f"SECRET {quote_string(secret)}, {session}REGION {quote_string(s.aws_region)}, "
            f"ENDPOINT {quote_string(endpoint.netloc)}, URL_STYLE 'path', USE_SSL {use_ssl})"
        )
        con.execute(f"SET enable_external_file_cache = {'true' if self.file_cache else 'false'}")
        # Every S3 request is logged, so a query reports the bytes it read, as Athena does.
        con.execute("CALL enable_logging('HTTP')")
        # Queries reach the lake and nothing else; then the configuration is frozen.
        con.execute("SET disabled_filesystems = 'LocalFileSystem'")
        con.execute("SET lock_configuration = true")
        return con

    # -- execution -----------------------------------------------------------------------------

    def execute(
        self,
        sql: Statement,
        params: Sequence[Any] = (),
        database: str | None = None,
        reuse_minutes: int = 0,
    ) -> QueryResult:
        """Run `sql` (text, or the statement parsed by sqlglot); unqualified tables are looked
        up in `database` (default: the raw one). DuckDB keeps no results: `reuse_minutes` is
        the API's to use (athena_api/query/reuse.py)."""
        started = time.perf_counter()
        tree = self._parse(sql) if isinstance(sql, str) else self._checked(sql.copy())
        placeholders = placeholders_in_order(tree)
        if len(placeholders) != len(params):
            raise BadParameter(
                f"the query has {len(placeholders)} '?' parameters "
                f"but {len(params)} values were given",
            )
        values = {id(p): params[i] for i, p in enumerate(placeholders)}
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        reads: list[tuple[str, TableInfo, list[str], str | None]] = []
        scanned: dict[str, list[str]] = {}
        for node in list(tree.find_all(exp.Table)):
            if not isinstance(node.this, exp.Identifier):
                raise BadSql("only tables of the Glue database can be read, not table functions")
            if node.name in ctes and not node.db:
                continue
            if node.args.get("catalog") is not None:
                raise UnknownTable(
                    f"catalog-qualified table {node.sql('trino')!r} is not supported",
                )
            info = self.table(node.name, node.db or database)
            as_of = _as_of(node, info)
            partitions = prune(info.partitions, node, values)
            scanned[info.name] = sorted(set(scanned.get(info.name, [])) | set(partitions))
            view = f"lake_{info.name}_{uuid.uuid4().hex[:8]}"
            reads.append((view, info, partitions, as_of))
            alias = node.alias or info.name
            node.replace(
                exp.Table(
                    this=exp.to_identifier(view),
                    alias=exp.TableAlias(this=exp.to_identifier(alias)),
                )
            )
        engine_sql = tree.sql(dialect="duckdb")

        def run(empty: set[str]) -> QueryResult:
            views = [(v, self._view_sql(i, p, a, empty)) for v, i, p, a in reads]
            return self._run_on_views(started, engine_sql, list(params), views, scanned)

        return _reading_empty_tables_as_empty(run, [info for _, info, _, _ in reads])

    def select(self, query: TableQuery, reuse_minutes: int = 0) -> QueryResult:
        """One table read, written straight into DuckDB's SQL: no parse, no second lookup."""
        started = time.perf_counter()
        info = query.table
        if query.as_of:
            _travels(info)
        as_of = query.as_of.isoformat(sep=" ") if query.as_of else None
        partitions = prune_where(info.partitions, query.where_tree)
        columns = ", ".join(quote_ident(c) for c in query.columns)

        def run(empty: set[str]) -> QueryResult:
            # The table's read inline, not a view made for the query: binding a view and then
            # the query over it expanded the table's S3 glob twice (two listings per query).
            engine_sql = (
                f"SELECT {columns} FROM ({self._view_sql(info, partitions, as_of, empty)}) "  # noqa: S608
                f"AS {quote_ident(info.name)}{query.clauses()}"
            )
            return self._run_on_views(
                started, engine_sql, list(query.params), [], {info.name: partitions}
            )

        return _reading_empty_tables_as_empty(run, [info])

    def _run_on_views(
        self,
        started: float,
        engine_sql: str,
        params: list[Any],
        views: list[tuple[str, str]],
        scanned: dict[str, list[str]],
    ) -> QueryResult:
        # This thread's own database: no other query sees its views or adds to its HTTP log.
        con = self._con
        con.execute("CALL truncate_duckdb_logs()")
        try:
            for view, body in views:
                with _no_objects_raised():
                    con.execute(f"CREATE TEMP VIEW {quote_ident(view)} AS {body}")
            columns, types, rows = self._run(engine_sql, params)
        finally:
            for view, _ in views:
                con.execute(f"DROP VIEW IF EXISTS {quote_ident(view)}")
        bytes_read = self._bytes_read()
        return QueryResult(
            columns,
            rows,
            engine=self.name,
            query_id=f"local-{uuid.uuid4()}",
            elapsed_ms=int((time.perf_counter() - started) * 1000),
            data_scanned_bytes=bytes_read,
            scanned_partitions=scanned,
            column_types=types,
        )

    def _parse(self, sql: str) -> exp.Expression:
        if not sql or not sql.strip():
            raise BadSql("the query is empty")
        try:
            statements = [s for s in sqlglot.parse(sql, read="trino") if s is not None]
        except sqlglot.errors.SqlglotError as exc:
            first = str(exc).splitlines()[0]
            raise BadSql(f"the SQL does not parse: {first}") from None
        if len(statements) != 1 or isinstance(statements[0], exp.Block):
            raise BadSql("send exactly one statement")
        return self._checked(statements[0])

    @staticmethod
    def _checked(tree: exp.Expression) -> exp.Expression:
        if not isinstance(tree, exp.Query):
            raise BadSql(f"only queries (SELECT) are allowed, not {tree.key.upper()}")
        return tree

    def _view_sql(
        self,
        info: TableInfo,
        partitions: list[str],
        as_of: str | None = None,
        empty: set[str] | frozenset[str] = frozenset(),
    ) -> str:
        """The table's rows as a SELECT; read as no rows when none of its days is kept, or when
        its glob is in `empty` (DuckDB found no object under it)."""
        if info.is_iceberg:
            return self._iceberg_view_sql(info, as_of)
        selects = [
            f"CAST({quote_ident(info.key_of[n])} AS {to_duckdb(t)}) AS {quote_ident(n)}"
            for n, t in info.columns
        ]
        # Every name below is quoted with _ident and every value with _sql_string: the view text
        # holds catalog names and S3 paths, never query input (that is bound as parameters).
        files = layout.days_glob(info.location)
        if not partitions or files in empty:
            nulls = [f"CAST(NULL AS {to_duckdb(t)}) AS {quote_ident(n)}" for n, t in info.columns]
            nulls.append(f"CAST(NULL AS VARCHAR) AS {PARTITION_KEY}")
            return f"SELECT {', '.join(nulls)} WHERE false"
        # One glob over every partition, filtered to the registered (and pruned) ones: DuckDB
        # drops the other files before reading, and an emptied partition is no error.
        files = quote_string(files)
        wanted = ", ".join(quote_string(p) for p in partitions)
        hive = f"hive_partitioning = true, hive_types = {{'{PARTITION_KEY}': 'VARCHAR'}}"
        fmt = BY_CLASSIFICATION[info.format]
        typed = ", ".join(
            f"{quote_string(info.key_of[n])}: {quote_string(to_duckdb(t))}" for n, t in info.columns
        )
        source = fmt.duckdb_source(files, hive, f"{{{typed}}}")
        if fmt.classification == "parquet":
            # Parquet objects written before a column existed lack it: read it as NULL.
            with _no_objects_raised():
                described = self._con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()  # noqa: S608
            present = {row[0].lower() for row in described}
            selects = [
                s if n.lower() in present else f"CAST(NULL AS {to_duckdb(t)}) AS {quote_ident(n)}"
                for s, (n, t) in zip(selects, info.columns, strict=True)
            ]
        columns = ", ".join([*selects, PARTITION_KEY])
        return f"SELECT {columns} FROM {source} WHERE {PARTITION_KEY} IN ({wanted})"  # noqa: S608

    def _iceberg_view_sql(self, info: TableInfo, as_of: str | None) -> str:
        # Plain renames, no casts: DuckDB then pushes filters into the scan, which prunes data
        # files by their day partition and column statistics, and reads only the columns used.
        names = ", ".join(
            f"{quote_ident(info.key_of[n])} AS {quote_ident(n)}" for n, _ in info.columns
        )
        travel = f", snapshot_from_timestamp = TIMESTAMP {quote_string(as_of)}" if as_of else ""
        source = f"iceberg_scan({quote_string(info.metadata_location or '')}{travel})"
        return f"SELECT {names} FROM {source}"  # noqa: S608 - catalog names, quoted

    def _run(
        self, sql: str, params: list[Any]
    ) -> tuple[list[str], list[str], list[tuple[Any, ...]]]:
        """Columns, their lake types, and rows."""
        con = self._con
        timer = threading.Timer(self.timeout, con.interrupt)
        timer.start()
        try:
            with _no_objects_raised():
                cursor = con.execute(sql, params)
                description = cursor.description or []
                rows = cursor.fetchall()
            columns = [d[0] for d in description]
            return columns, [lake_type(d[1]) for d in description], rows
        except duckdb.InterruptException:
            raise QueryTimeout(f"the query ran longer than {self.timeout:.0f}s") from None
        except (duckdb.BinderException, duckdb.ParserException, duckdb.CatalogException) as exc:
            raise BadSql(_first_line(exc)) from None
        except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
            raise BadParameter(_first_line(exc)) from None
        except duckdb.Error as exc:
            raise EngineFailure(_first_line(exc)) from None
        finally:
            timer.cancel()

    def _bytes_read(self) -> int:
        """Bytes the S3 endpoint sent for GET requests since the logs were last truncated."""
        [(total,)] = self._con.execute(
            "SELECT COALESCE(SUM(TRY_CAST(response.headers['Content-Length'] AS BIGINT)), 0) "
            "FROM duckdb_logs_parsed('HTTP') WHERE request.type = 'GET'"
        ).fetchall()
        return int(total)

    def ping(self) -> None:
        self.execute("SELECT 1")

    def close(self) -> None:
        with self._all_lock:
            for con in self._all:
                con.close()
            self._all.clear()
        self._local = threading.local()


def _as_of(node: exp.Table, info: TableInfo) -> str | None:
    """`FOR TIMESTAMP AS OF TIMESTAMP '...'` (Athena's time travel) as a normalised timestamp."""
    version = node.args.get("version")
    if version is None:
        return None
    _travels(info)
    literal = version.expression
    while isinstance(literal, exp.Cast):
        literal = literal.this
    if str(version.this).upper() != "TIMESTAMP" or not (
        isinstance(literal, exp.Literal) and literal.is_string
    ):
        raise BadSql("time travel takes FOR TIMESTAMP AS OF TIMESTAMP 'YYYY-MM-DD HH:MM:SS'")
    try:
        return datetime.fromisoformat(literal.this).isoformat(sep=" ")
    except ValueError:
        raise BadParameter(f"{literal.this[:40]!r} is not a timestamp") from None


def _travels(info: TableInfo) -> None:
    """Time travel reads a snapshot: only the curated (Iceberg) tables have them."""
    if not info.is_iceberg:
        raise BadSql(f"time travel needs a curated (Iceberg) table; {info.name} is not one")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]


# DuckDB's error when a read's glob matches no object: a table whose every object is gone
# since its partitions were read (retention, a bucket emptied by hand).
_NO_FILES = re.compile(r'No files found that match the pattern "(?P<glob>[^"]+)"')


class _NoObjects(Exception):
    def __init__(self, glob: str) -> None:
        super().__init__(glob)
        self.glob = glob


@contextmanager
def _no_objects_raised() -> Iterator[None]:
    try:
        yield
    except duckdb.IOException as exc:
        if found := _NO_FILES.search(str(exc)):
            raise _NoObjects(found["glob"]) from None
        raise


def _reading_empty_tables_as_empty(
    run: Callable[[set[str]], QueryResult], tables: Sequence[TableInfo]
) -> QueryResult:
    """`run(empty)`, run again each time DuckDB finds no object under a table's glob, with that
    glob in `empty` (the table read as no rows, as Athena reads a location with no object).
    Instead of listing each table before each query: a request to S3 per table and query,
    which cost a quarter of the API's throughput on distinct queries."""
    globs = {layout.days_glob(info.location) for info in tables if not info.is_iceberg}
    empty: set[str] = set()
    while True:
        try:
            return run(empty)
        except _NoObjects as missing:
            if missing.glob not in globs or missing.glob in empty:  # not one of the tables'
                raise EngineFailure(f"no object matches {missing.glob}") from None
            empty.add(missing.glob)
