"""Engine settings: SQLite in WAL with a busy timeout and immediate write transactions.

Requests that may write (POST, PUT, PATCH, DELETE), CLI commands and services start their
SQLite transactions with BEGIN IMMEDIATE, so that two writers queue on the busy timeout instead
of failing on a lock upgrade. Read-only requests (GET, HEAD) begin deferred, so that readers never
wait for each other. PostgreSQL needs none of this.
"""
from __future__ import annotations

import contextvars
import sqlite3
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.pool import Pool

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)
_busy_timeout_ms = 15000


def set_write_intent(value: bool) -> contextvars.Token:
    return _write_intent.set(value)


def reset_write_intent(token: contextvars.Token) -> None:
    _write_intent.reset(token)


@contextmanager
def write_intent():
    """Inside a read-only request, make the next SQLite transaction BEGIN IMMEDIATE."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def configure_sqlite(busy_timeout_ms: int) -> None:
    global _busy_timeout_ms
    _busy_timeout_ms = int(busy_timeout_ms)


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # let SQLAlchemy's 'begin' event below issue BEGIN itself
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout = {_busy_timeout_ms}")
    mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
    if mode != "memory":
        cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.close()


@event.listens_for(Engine, "begin")
def _on_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    write = _write_intent.get() and conn.engine not in _read_only_engines  # reports: deferred
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def sqlite_engine_options(url: str) -> dict:
    """pysqlite: one connection per thread is fine; keep the pool small. Other engines: the
    pool's idle check below (instead of `pool_pre_ping`, a round trip on every checkout).
    PostgreSQL: no JIT compilation (an OLTP application's statements are short; on a report's
    large GROUP BY it cost 200-320 ms per statement to compile: bench/reports.py)."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": _busy_timeout_ms / 1000, "check_same_thread": False}}
    if url.startswith("postgresql"):
        return {"connect_args": {"options": "-c jit=off"}}
    return {}


IDLE_PING_SECONDS = 10.0


@event.listens_for(Pool, "checkin")
def _on_checkin(dbapi_connection, connection_record):
    connection_record.info["checked_in_at"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _on_checkout(dbapi_connection, connection_record, connection_proxy):
    """A server connection that sat in the pool for a while (the database may have restarted
    meanwhile) is pinged before use; a dead one is replaced (DisconnectionError makes the pool
    connect again). Connections in steady use are not pinged: a busy server saves a round trip
    per request."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        return
    idle_since = connection_record.info.get("checked_in_at")
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as exc:
        raise DisconnectionError("the pooled connection is gone") from exc


# ---- dialect twins --------------------------------------------------------------------------
# A hot-path step is one SQLAlchemy Core statement for both engines unless a benchmark shows a
# dialect-specific twin makes its path at least 15% faster; the twins that earned their place
# are listed in each package's sql.py next to the portable statement. SQL_TWINS ("all",
# "none", or names) turns them off for a benchmark's comparison or a parity test.

_twins: frozenset[str] | None = None  # None: every twin


def configure_twins(setting: str | None) -> None:
    global _twins
    words = {w.strip() for w in (setting or "all").split(",") if w.strip()}
    _twins = None if words == {"all"} else frozenset(words - {"none"})


def use_twin(conn, name: str, dialect: str = "postgresql") -> bool:
    """Whether the `dialect` twin called `name` runs on `conn` (else the portable statement)."""
    return conn.dialect.name == dialect and (_twins is None or name in _twins)


def driver_execute(conn, sql: str, params=None) -> list[tuple]:
    """Run `sql` (written in the driver's own parameter style) on the DBAPI connection under
    SQLAlchemy connection `conn`, in its transaction, and return the rows as plain tuples. For
    a few statements on hot paths whose parameters and rows are plain values: it skips
    SQLAlchemy's per-statement work (an execution context, result processing), which costs
    more than the statement itself there. psycopg prepares a statement it sees repeatedly."""
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []
    finally:
        cursor.close()


_driver_sql: dict[tuple[int, str], tuple[str, list[str] | None]] = {}
_bulk_sql: dict[tuple[str, tuple[str, ...], str | None], str] = {}


def insert_many(conn, table, rows: list[dict], returning: str | None = None) -> list:
    """INSERT `rows` (dicts with the same keys) into `table`; with `returning`, that column of
    each new row, in the rows' order. One statement for both engines: SQLAlchemy's
    executemany (its multi-row VALUES batches), or on PostgreSQL (twin "bulk.insert") the same
    INSERT run by psycopg's own executemany in pipeline mode, which skips SQLAlchemy's and the
    driver's work on one huge statement per batch: 5,000 orders in 0.5 s instead of 2.4 s
    (bench/campaigns.py). Values are plain: enums are stored as their values."""
    if not rows:
        return []
    if len(rows) == 1 or not use_twin(conn, "bulk.insert"):
        stmt = table.insert()
        if returning is None:
            conn.execute(stmt, rows)
            return []
        stmt = stmt.returning(table.c[returning], sort_by_parameter_order=True)
        return conn.execute(stmt, rows).scalars().all()
    columns = tuple(rows[0])
    key = (table.name, columns, returning)
    sql = _bulk_sql.get(key)
    if sql is None:
        sql = _bulk_sql[key] = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
            f"({', '.join(f'%({c})s' for c in columns)})"
            + (f" RETURNING {returning}" if returning else ""))
    params = [{c: getattr(v, "value", v) if isinstance(v, StrEnum) else v
               for c, v in row.items()} for row in rows]
    cursor = conn.connection.driver_connection.cursor()
    try:
        if returning is None:
            cursor.executemany(sql, params)
            return []
        cursor.executemany(sql, params, returning=True)
        out = []
        while True:
            out += [row[0] for row in cursor.fetchall()]
            if not cursor.nextset():
                break
        return out
    finally:
        cursor.close()


def driver_many(conn, stmt, rows: list[dict]) -> None:
    """Run the SQL text statement `stmt` (named parameters) once per row of `rows`, as the
    driver's executemany: the statement is compiled once per dialect by SQLAlchemy into the
    driver's own parameter style, and the rows (plain values, already in the columns' stored
    form) skip SQLAlchemy's per-row work. One code path for every engine."""
    key = (id(stmt), conn.dialect.name)
    found = _driver_sql.get(key)
    if found is None:
        compiled = stmt.compile(dialect=conn.dialect)
        found = _driver_sql[key] = (compiled.string, compiled.positiontup)
    sql, positions = found
    params = rows if positions is None else [tuple(row[k] for k in positions) for row in rows]
    conn.exec_driver_sql(sql, params if len(params) > 1 else params[0])


def in_session(session, cls, ident):
    """The object of `cls` with primary key `ident` if the session holds it already, else None
    (no SQL)."""
    return session.identity_map.get(session.identity_key(cls, ident))


def loaded(cls, values: dict, **related):
    """An object of `cls` for a row read (or just written) by a Core statement, in the state the
    ORM gives a loaded object: `values` (column attribute -> value) and `related` (relationship
    -> loaded object or list of them) are its committed state, attributes not given load on
    first use, nothing is pending. Not in a session yet: see `attach`. Building it this way
    skips the constructor's change events (hot paths build a few per request)."""
    obj = cls.__mapper__.class_manager.new_instance()
    obj.__dict__.update(values)
    for name, value in related.items():
        set_committed_value(obj, name, value)
    make_transient_to_detached(obj)
    return obj


def attach(session, obj):
    """Put a `loaded` object (and the loaded objects it holds) in the session, no SQL. The
    session must not hold another object of the same identity (see `in_session`)."""
    session.add(obj)
    return obj


def row_object(session, cls, values: dict):
    """The session's object of `cls` for a row's values (all columns of its table, e.g. from
    `split_row`): the one the session holds, else one attached."""
    found = in_session(session, cls, values["id"])
    if found is not None:
        return found
    return attach(session, loaded(cls, values))


def split_row(row, *tables) -> list[dict]:
    """A Core row of `select(table_a, table_b, ...)` (all columns of each, in that order, maybe
    followed by others) as one {column key: value} dict per table: positional, no lookups."""
    out, start = [], 0
    for table in tables:
        keys = table.c.keys()
        out.append(dict(zip(keys, row[start:start + len(keys)], strict=True)))
        start += len(keys)
    return out


# ---- reports: a read replica ------------------------------------------------------------------
# MARKETPLACE_REPORTS_DATABASE_URL (config REPORTS_DATABASE_URL, default None) sends the reports'
# reads to a streaming replica of the primary; writes always go to the primary (db.session). The
# reports engine is made once per app (cached in app.extensions) with the main engine's options,
# and its connections are read-only (PostgreSQL: default_transaction_read_only; SQLite, used by
# tests as a second engine on the same file: PRAGMA query_only), so a report that tried to write
# would fail even against a primary. Without the setting the reports read db.session.

REPORTS_ENGINE = "marketplace.reports_engine"  # the key in app.extensions
_reports_lock = threading.Lock()
_read_only_engines: weakref.WeakSet = weakref.WeakSet()


def reports_engine(app=None) -> Engine | None:
    """The app's engine for report reads, or None when REPORTS_DATABASE_URL is not set."""
    from flask import current_app
    app = app or current_app._get_current_object()
    url = app.config.get("REPORTS_DATABASE_URL")
    if not url:
        return None
    engine = app.extensions.get(REPORTS_ENGINE)
    if engine is None:
        with _reports_lock:
            engine = app.extensions.get(REPORTS_ENGINE)
            if engine is None:
                engine = app.extensions[REPORTS_ENGINE] = _make_reports_engine(app, url)
    return engine


def _make_reports_engine(app, url: str) -> Engine:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    main = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if make_url(url).get_backend_name() != main:  # the main engine's driver arguments do not fit
        options.pop("connect_args", None)
        options.update(sqlite_engine_options(url))
    engine = create_engine(url, **options)
    _read_only_engines.add(engine)

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()
        cursor.close()

    return engine


def dispose_reports_engine(app) -> None:
    """Close the reports engine's pooled connections (tests, before a database is dropped)."""
    engine = app.extensions.pop(REPORTS_ENGINE, None)
    if engine is not None:
        engine.dispose()


@contextmanager
def reports_session():
    """A session for a report's reads: on the replica when REPORTS_DATABASE_URL is set (a new
    session, closed at the end so that the replica holds no snapshot or lock between reports:
    a long one delays the replay of the primary's changes), else db.session itself."""
    from marketplace.extensions import db
    engine = reports_engine()
    if engine is None:
        yield db.session
        return
    session = Session(bind=engine, autoflush=False, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


@dataclass(frozen=True)
class Freshness:
    as_of: datetime  # aware UTC: the data read includes every change committed before it
    replica: bool  # the session reads a standby (hot standby in recovery)


def freshness(session) -> Freshness:
    """How fresh the data read through `session` is (the page's "数据截至 ..."). On the primary
    or SQLite: now. On a PostgreSQL standby: the commit time of the last transaction it
    replayed (pg_last_xact_replay_timestamp), or now when it has replayed everything it has
    received while its WAL receiver is streaming (a caught-up standby of an idle primary has
    nothing older to show) or when it has replayed nothing yet."""
    now = datetime.now(timezone.utc)
    if session.get_bind().dialect.name != "postgresql":
        return Freshness(now, False)
    recovering, replayed_at, caught_up = session.execute(text(
        "SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp(),"
        " pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
        " AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver)")).one()
    if not recovering:
        return Freshness(now, False)
    if replayed_at is None or caught_up:
        return Freshness(now, True)
    return Freshness(min(replayed_at.astimezone(timezone.utc), now), True)


def data_as_of(session) -> datetime:
    """The time the data read through `session` is current to (aware UTC); see `freshness`."""
    return freshness(session).as_of


def is_replica(session) -> bool:
    """Whether `session` reads a standby rather than the primary."""
    return freshness(session).replica
