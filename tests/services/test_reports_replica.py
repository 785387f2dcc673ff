"""Reports read a replica (issue 17, point 9): core.db.reports_session, data_as_of and
is_replica; on PostgreSQL through the streaming replica that .ci/run starts
(MARKETPLACE_TEST_PG_REPLICA_URL), on SQLite through a second, read-only engine on the file."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from marketplace.accounts.models import User
from marketplace.core import db as dbsetup
from marketplace.core.db import data_as_of, freshness, is_replica, reports_engine, reports_session
from marketplace.extensions import db
from tests.fixtures.databases import sync_replica, wait_for_replica
from tests.fixtures.factories import Maker, make_user

SLACK = timedelta(seconds=5)  # clocks of the app and the database server, and the replay


def now() -> datetime:
    return datetime.now(timezone.utc)


def test_without_a_replica_reports_read_the_primary_session(app):
    with app.app_context():
        assert reports_engine() is None
        with reports_session() as session:
            assert session is db.session
            assert is_replica(session) is False
            as_of = data_as_of(session)
        assert as_of.tzinfo is not None and abs(as_of - now()) < SLACK


def test_the_reports_engine_is_made_once_per_app(replica_app, app):
    with replica_app.app_context():
        engine = reports_engine()
        assert engine is reports_engine() and engine is not db.engine
        assert engine.url.render_as_string(hide_password=False) \
            == replica_app.config["REPORTS_DATABASE_URL"]
        with reports_session() as session:
            assert session is not db.session and session.get_bind() is engine
    with app.app_context():
        assert reports_engine() is None  # another app without the setting
    dbsetup.dispose_reports_engine(replica_app)
    with replica_app.app_context():
        assert reports_engine() is not engine  # made again after a dispose


def test_a_committed_row_is_read_through_the_replica(replica_app):
    make = Maker(replica_app)
    before = now()
    user = make(make_user, name="副本读者")
    sync_replica(replica_app)
    with replica_app.app_context():
        with reports_session() as session:
            assert session.scalar(select(User.display_name).where(User.id == user.id)) \
                == "副本读者"
            fresh = freshness(session)
        replica = replica_app.config["REPORTS_DATABASE_URL"].startswith("postgresql")
        assert fresh.replica is replica
        assert fresh.as_of.tzinfo is not None and fresh.as_of.utcoffset() == timedelta(0)
        assert before - SLACK <= fresh.as_of <= now() + SLACK


def test_uncommitted_writes_stay_on_the_primary(replica_app):
    make = Maker(replica_app)
    make(make_user)
    sync_replica(replica_app)
    with replica_app.app_context():
        make_user(db.session, name="未提交")
        db.session.flush()
        with reports_session() as session:
            assert session.scalar(select(func.count()).select_from(User)) == 1
        db.session.rollback()


def test_a_write_through_the_reports_session_fails(replica_app):
    with replica_app.app_context():
        with reports_session() as session:
            with pytest.raises(DBAPIError) as failed:
                session.execute(text(
                    "UPDATE categories SET name_en = name_en || '!' WHERE slug = 'tea'"))
                session.flush()
            message = str(failed.value.orig).lower()
            assert "read-only" in message or "readonly" in message, message
        # the primary is untouched and still writable
        tea = db.session.scalar(text("SELECT name_en FROM categories WHERE slug = 'tea'"))
        assert not tea.endswith("!")


@pytest.mark.parametrize("row, expected", [
    ((False, None, None), "now"),  # the primary itself
    ((True, None, False), "now"),  # a standby that replayed nothing yet
    ((True, "old", True), "now"),  # caught up with what it received, streaming
    ((True, "old", False), "old"),  # behind: as of the last transaction it replayed
    ((True, "future", False), "now"),  # never later than now
])
def test_freshness_on_plain_values(row, expected):
    old = datetime(2026, 12, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    values = {"old": old, "future": now() + timedelta(hours=1), None: None}
    result = (row[0], values[row[1]], row[2])
    session = SimpleNamespace(
        get_bind=lambda: SimpleNamespace(dialect=SimpleNamespace(name="postgresql")),
        execute=lambda *a, **kw: SimpleNamespace(one=lambda: result))
    before = now()
    fresh = freshness(session)
    assert fresh.replica is row[0]
    if expected == "now":
        assert before <= fresh.as_of <= now()
    else:
        assert fresh.as_of == old and fresh.as_of.utcoffset() == timedelta(0)


# ---- the streaming replica itself (PostgreSQL only) -------------------------------------------

def test_the_replica_follows_the_primary(pg_url, pg_replica_url):
    """Whole-cluster streaming: the test database is there under the same name, in recovery;
    a row written on the primary is readable after wait_for_replica; writes are refused by the
    standby itself (not only by the reports engine's read-only setting)."""
    primary = create_engine(pg_url, poolclass=NullPool)
    replica = create_engine(pg_replica_url, poolclass=NullPool)
    try:
        with primary.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS replica_probe (n int)"))
            conn.execute(text("INSERT INTO replica_probe VALUES (41), (1)"))
        wait_for_replica(pg_url, pg_replica_url)
        with replica.connect() as conn:
            assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is True
            assert conn.execute(text("SELECT sum(n) FROM replica_probe")).scalar_one() == 42
            with pytest.raises(DBAPIError, match="read-only"):
                conn.execute(text("INSERT INTO replica_probe VALUES (0)"))
    finally:
        with primary.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS replica_probe"))
        primary.dispose()
        replica.dispose()
    wait_for_replica(pg_url, pg_replica_url)
