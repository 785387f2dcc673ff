"""Engine settings: SQLite in WAL with a busy timeout and immediate write transactions.

Requests that may write (POST, PUT, PATCH, DELETE), CLI commands and services start their
SQLite transactions with BEGIN IMMEDIATE, so that two writers queue on the busy timeout instead
of failing on a lock upgrade. Read-only requests (GET, HEAD) begin deferred, so that readers never
wait for each other. PostgreSQL needs none of this.
"""
from __future__ import annotations

import contextvars
import sqlite3
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

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
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def sqlite_engine_options(url: str) -> dict:
    """pysqlite: one connection per thread is fine; keep the pool small."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": _busy_timeout_ms / 1000, "check_same_thread": False}}
    return {"pool_pre_ping": True}
