"""Migration 0020 (seller rejection) on a database with data, on both engines: sellers that
products, role grants and cooperative members refer to keep every row (a copied-and-dropped
sellers table would delete the grants and members, ON DELETE CASCADE, or fail on the products),
a seller may then be rejected with a reason, and the downgrade turns a rejected one back into a
suspended one with its reason as the note."""
from __future__ import annotations

import os
import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from tests.fixtures.databases import pg_base_url

BEFORE, THIS = "0019_stock_on_hand", "0020_seller_rejection"


def _run(url: str, step: str, revision: str) -> None:
    from flask_migrate import downgrade, upgrade

    from marketplace import create_app
    from marketplace.extensions import db
    app = create_app({"MARKETPLACE_MODE": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        (upgrade if step == "upgrade" else downgrade)(revision=revision)
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "pg"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        return
    base = pg_base_url()
    if not base:
        pytest.skip("PostgreSQL not configured (set MARKETPLACE_TEST_PG_URL)")
    url = make_url(base)
    name = f"{url.database}_mig_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


NOW = "'2026-12-01 08:00:00'"
ROWS = [
    "INSERT INTO regions (id, code, name, level, depth, parent_id, path, name_path) VALUES "
    "(1, '430525', '洞口县', 'county', 2, NULL, '/430525/', '洞口县')",
    "INSERT INTO users (id, email, display_name, password_hash, active, created_at, updated_at) "
    f"VALUES (1, 'a@example.test', '申请人', 'x', TRUE, {NOW}, {NOW})",
    "INSERT INTO households (id, code, village_id, head_name, id_hash, id_last4, size, status, "
    f"created_at, updated_at) VALUES (1, 'HT00000001', 1, '张三明', 'h1', '0001', 3, 'poor', "
    f"{NOW}, {NOW})",
    "INSERT INTO sellers (id, kind, name, credit_code, region_id, contact_name, contact_mobile, "
    "description, status, status_note, created_at, updated_at) VALUES "
    "(1, 'cooperative', '古楼茶叶专业合作社', '91430525MA4L0001XY', 1, '李四', '13800138000', '', "
    f"'pending', '', {NOW}, {NOW})",
    "INSERT INTO role_grants (id, user_id, role, seller_id, created_at) VALUES "
    f"(1, 1, 'seller_staff', 1, {NOW})",
    "INSERT INTO cooperative_members (id, seller_id, household_id, weight) VALUES (1, 1, 1, 2)",
    "INSERT INTO products (id, sku, seller_id, category_id, origin_id, name, spec, description, "
    "price_fen, stock, status, review_note, certificate_no, certificate_checked, featured, "
    "created_at, updated_at) SELECT 1, 'T1', 1, id, 1, '云雾茶', '250g', '', 4500, 5, 'draft', "
    f"'', '', FALSE, FALSE, {NOW}, {NOW} FROM categories ORDER BY id LIMIT 1",
]


def _engine(url: str):
    engine = create_engine(url)
    if url.startswith("sqlite"):
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _fk(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA foreign_keys = ON")
    return engine


def _counts(engine) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                     for t in ("sellers", "role_grants", "cooperative_members", "products"))


def test_upgrade_keeps_every_row_and_takes_rejected(empty_url):
    _run(empty_url, "upgrade", BEFORE)
    engine = _engine(empty_url)
    with engine.begin() as conn:
        for statement in ROWS:
            conn.execute(text(statement))
    assert _counts(engine) == (1, 1, 1, 1)
    engine.dispose()

    _run(empty_url, "upgrade", THIS)
    engine = _engine(empty_url)
    assert _counts(engine) == (1, 1, 1, 1)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT rejection_reason, rejected_at FROM sellers")).one() == (
            "", None)
        conn.execute(text("UPDATE sellers SET status = 'rejected', "
                          "rejection_reason = '材料不全' WHERE id = 1"))
    with pytest.raises(IntegrityError), engine.begin() as conn:  # the CHECK still checks
        conn.execute(text("UPDATE sellers SET status = 'bogus' WHERE id = 1"))
    if empty_url.startswith("sqlite"):
        con = sqlite3.connect(make_url(empty_url).database)
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        con.close()
    engine.dispose()

    _run(empty_url, "downgrade", BEFORE)
    engine = _engine(empty_url)
    assert _counts(engine) == (1, 1, 1, 1)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status, status_note FROM sellers")).one() == (
            "suspended", "材料不全")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE sellers SET status = 'rejected' WHERE id = 1"))
    engine.dispose()

    _run(empty_url, "upgrade", "head")
    engine = _engine(empty_url)
    assert _counts(engine) == (1, 1, 1, 1)
    engine.dispose()
