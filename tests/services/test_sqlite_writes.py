"""SQLite: WAL, busy timeout and BEGIN IMMEDIATE let concurrent writers queue instead of failing
with 'database is locked' when a reader upgrades to a writer."""
import threading
import time

from sqlalchemy import select, text, update

from marketplace import create_app
from marketplace.catalog.models import Product
from marketplace.config import test_config
from marketplace.core import db as dbsetup
from marketplace.extensions import db
from tests.fixtures.factories import make_product


def test_pragmas(sqlite_url, tmp_path):
    app = create_app(test_config(tmp_path, sqlite_url))
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_read_then_write_transactions_do_not_deadlock(sqlite_url, tmp_path):
    app = create_app(test_config(tmp_path, sqlite_url))
    with app.app_context():
        pid = make_product(db.session, stock=1000).id
        db.session.commit()
    errors: list[BaseException] = []
    workers, rounds = 8, 10

    def worker():
        try:
            with app.app_context():
                for _ in range(rounds):
                    # read first, then write in the same transaction: the pattern that fails
                    # under deferred transactions when another writer commits in between
                    stock = db.session.scalar(select(Product.stock).where(Product.id == pid))
                    time.sleep(0.001)
                    db.session.execute(update(Product).where(Product.id == pid)
                                       .values(stock=stock - 1))
                    db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    with app.app_context():
        # immediate transactions serialise read-modify-write: no update is lost
        assert db.session.get(Product, pid).stock == 1000 - workers * rounds


def test_read_only_requests_begin_deferred(sqlite_url, tmp_path):
    token = dbsetup.set_write_intent(False)
    try:
        app = create_app(test_config(tmp_path, sqlite_url))
        with app.app_context():
            db.session.execute(text("SELECT 1"))
            # a deferred read transaction holds no write lock: another writer can proceed
            other = db.engine.raw_connection()
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            other.close()
            db.session.rollback()
    finally:
        dbsetup.reset_write_intent(token)
