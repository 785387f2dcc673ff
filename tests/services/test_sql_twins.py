"""Each dialect twin of a hot-path step writes and reads the same rows as its portable statement,
on the engine it is written for.
Every variant runs in a savepoint that is rolled back, on the same data and at the same time;
rows are compared without the ids a PostgreSQL sequence hands out (sequences do not roll back).
And no status, kind or role is typed inside SQL text: they are bound from the enums."""
from __future__ import annotations

import enum
import inspect
import re
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import ClauseElement, select

from marketplace.core import db as core_db
from marketplace.core.errors import DomainError
from marketplace.core.time import now_utc
from marketplace.ledger import chain, rules
from marketplace.ledger import sql as ledger_sql
from marketplace.ledger.chain import NewEntry
from marketplace.ledger.models import LedgerEntry, LedgerHead, LotDraw, SupplyLot
from marketplace.notifications.models import Notification
from marketplace.orders import services as orders
from marketplace.orders import sql as orders_sql
from marketplace.orders.models import Order, OrderEvent, OrderLine
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments import sql as payments_sql
from marketplace.payments.capture import record_payment
from marketplace.payments.models import Payment
from marketplace.sellers.models import SellerKind
from tests.fixtures.factories import (
    DELIVERY,
    make_cooperative,
    make_household,
    make_product,
    make_seller,
    make_user,
)

EXAMPLES = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def engine(session) -> str:
    return session.get_bind().dialect.name


def needs(session, dialect: str) -> None:
    if engine(session) != dialect:
        pytest.skip(f"a {dialect} twin")


@contextmanager
def twins(setting: str):
    core_db.configure_twins(setting)
    try:
        yield
    finally:
        core_db.configure_twins("all")


def same(seen: list) -> None:
    """Every setting's rows are the last one's (the portable statements'); names the first
    difference."""
    for setting_seen in seen[:-1]:
        for part, (got, want) in enumerate(zip(setting_seen[2], seen[-1][2], strict=True)):
            assert got == want, f"part {part}: {got} != {want}"
        assert setting_seen[:2] == seen[-1][:2]


def each(session, settings_: list[str], work, read) -> list:
    """What `read` gives after `work` under each twin setting, each in a rolled-back
    savepoint."""
    seen = []
    for setting in settings_:
        savepoint = session.begin_nested()
        with twins(setting):
            try:
                outcome = ("ok", work())
            except DomainError as err:
                outcome = ("error", type(err).__name__, err.details)
            seen.append((outcome[0], outcome[1:] if outcome[0] == "error" else None,
                         read()))
        savepoint.rollback()
        session.expire_all()
    return seen


def rows(session, stmt) -> list[tuple]:
    return [tuple(row) for row in session.execute(stmt).all()]


# ---- ledger.append on a payment: lots drawn, members split, entries chained (PostgreSQL) -------

@pytest.fixture
def makers(session):
    coop, members = make_cooperative(session, first=900, weights=(1, 2, 4), share_bp=1500)
    tea = make_product(session, coop, name="合作社茶", price_fen=3999, stock=50)
    firm = make_seller(session, kind=SellerKind.enterprise)
    firm.household_share_bp = 2000
    oil = make_product(session, firm, name="茶油", price_fen=8800, stock=50)
    oil.lot_backed = True
    for i, household in enumerate(members):
        session.add(SupplyLot(seller_id=firm.id, product_id=oil.id, household_id=household.id,
                              quantity=2 + i, remaining=2 + i, unit_price_fen=1000,
                              purchased_on=date.today() - timedelta(days=3 - i),
                              below_guarantee=False, created_at=now_utc()))
    buyer = make_user(session, "buyer")
    make_user(session, "seller_staff", seller=coop)
    make_user(session, "seller_staff", seller=firm)
    placed = orders.checkout(session, buyer, [LineInput(oil.id, 1)], AddressInput(**DELIVERY),
                             idempotency_key="twin-draw-0001")  # a line to draw for
    session.commit()
    return {"tea": tea.id, "oil": oil.id, "buyer": buyer, "firm": firm.id,
            "households": [h.id for h in members], "line": placed[0].lines[0].id}


def paid_rows(session):
    payment, order, event = Payment.__table__, Order.__table__, OrderEvent.__table__
    entry, line = LedgerEntry.__table__, OrderLine.__table__
    keep = [c for c in payment.c if c.key != "id"]
    return (rows(session, select(*keep).order_by(payment.c.order_id)),
            rows(session, select(order.c.id, order.c.status, order.c.paid_fen, order.c.paid_at,
                                 order.c.reserved_until, order.c.stock_held)
                 .order_by(order.c.id)),
            rows(session, select(event.c.order_id, event.c.kind, event.c.from_status,
                                 event.c.to_status, event.c.note, event.c.created_at)
                 .order_by(event.c.order_id, event.c.kind)),
            sorted(rows(session, select(Notification.user_id, Notification.text,
                                        Notification.url))),
            rows(session, select(line.c.id, line.c.share_bp, line.c.attributable_fen)
                 .order_by(line.c.id)),
            rows(session, select(*(entry.c[c] for c in ledger_sql.ENTRY_COLUMNS))
                 .order_by(entry.c.seq)),
            rows(session, select(LedgerHead.last_seq, LedgerHead.last_hash)),
            rows(session, select(LotDraw.lot_id, LotDraw.order_line_id, LotDraw.household_id,
                                 LotDraw.quantity).order_by(LotDraw.lot_id)),
            rows(session, select(SupplyLot.id, SupplyLot.remaining).order_by(SupplyLot.id)))


@EXAMPLES
@given(tea=st.integers(0, 4), oil=st.integers(0, 12))
def test_posting_twins_write_what_the_portable_statements_write(session, makers, tea, oil):
    needs(session, "postgresql")
    lines = [LineInput(makers[name], q) for name, q in (("tea", tea), ("oil", oil)) if q]
    if not lines:
        return
    outer = session.begin_nested()  # the orders too are gone after each example
    placed = orders.checkout(session, makers["buyer"], lines, AddressInput(**DELIVERY),
                             idempotency_key="twin-pay-00001")
    session.flush()
    ids = [o.id for o in placed]
    now = now_utc()

    def work():
        for order_id in ids:
            order = session.get(Order, order_id)
            record_payment(session, order, provider="simulated", reference=f"twin-{order_id}",
                           amount_fen=order.total_fen, currency="CNY", now=now)
        session.flush()
    seen = each(session, ["all", "none"], work, lambda: paid_rows(session))
    outer.rollback()
    session.expire_all()
    same(seen)
    assert seen[-1][0] == "ok"


# ---- ledger.append (PostgreSQL) and ledger.chain (PostgreSQL and SQLite) -------------------------

@pytest.fixture
def ledger_world(session):
    households = [make_household(session, n=950 + i).id for i in range(3)]
    coop = make_seller(session)
    product = make_product(session, coop, price_fen=1000, stock=50)
    placed = orders.checkout(session, make_user(session, "buyer"), [LineInput(product.id, 3)],
                             AddressInput(**DELIVERY), idempotency_key="twin-ledger-001")
    session.commit()
    return {"households": households, "line": placed[0].lines[0].id}


def chain_rows(session):
    entry = LedgerEntry.__table__
    return (rows(session, select(*(entry.c[c] for c in ledger_sql.ENTRY_COLUMNS))
                 .order_by(entry.c.seq)),
            rows(session, select(LedgerHead.last_seq, LedgerHead.last_hash)),
            rows(session, select(OrderLine.id, OrderLine.share_bp, OrderLine.attributable_fen)))


@EXAMPLES
@given(batches=st.lists(st.lists(st.tuples(st.integers(0, 2), st.integers(1, 5000)),
                                 min_size=1, max_size=6), min_size=1, max_size=3),
       attribute=st.booleans())
def test_the_append_twin_writes_what_the_portable_statements_write(session, ledger_world,
                                                                   batches, attribute):
    needs(session, "postgresql")
    world = ledger_world
    at = now_utc()

    def work():
        for i, batch in enumerate(batches):
            entries = [NewEntry(world["households"][h], world["line"], amount)
                       for h, amount in batch]
            attributions = ([{"line": world["line"], "bp": 1234, "fen": sum(
                a for _, a in batch)}] if attribute and i == 0 else ())
            chain.append(session, entries, now=at + timedelta(seconds=i),
                         attributions=attributions)
    twin = "ledger.append"
    seen = each(session, [twin, "none"], work, lambda: chain_rows(session))
    assert seen[0] == seen[1], seen


@EXAMPLES
@given(amounts=st.lists(st.integers(1, 10**6), min_size=1, max_size=12),
       batch=st.integers(1, 5))
def test_the_chain_reading_twins_read_what_the_portable_select_reads(session, ledger_world,
                                                                     amounts, batch):
    world = ledger_world

    def read():
        chunks, moment = chain.read_chain(session, batch)
        return [(*row[:5], moment(row[5]), *row[6:]) for chunk in chunks for row in chunk]

    at = now_utc()

    def work():
        chain.append(session, [NewEntry(world["households"][i % 3], world["line"], a)
                               for i, a in enumerate(amounts)], now=at)
    seen = each(session, ["ledger.chain", "none"], work, read)
    assert seen[0] == seen[1] and len(seen[0][2]) == len(amounts)
    moments = {row[5] for row in seen[1][2]}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", m) for m in moments)


# ---- no status literal inside SQL text ----------------------------------------------------------

def _enum_values() -> set[str]:
    """Every value of the StrEnums the hot paths bind (statuses, kinds, roles)."""
    from marketplace.catalog import models as catalog_models
    from marketplace.core import roles
    from marketplace.ledger import models as ledger_models
    from marketplace.orders import models as order_models
    from marketplace.payments import models as payment_models
    from marketplace.search import models as search_models
    from marketplace.sellers import models as seller_models
    values = {rules.SALE, rules.REVERSAL}
    for module in (catalog_models, roles, ledger_models, order_models, payment_models,
                   search_models, seller_models):
        for _, member in inspect.getmembers(module, inspect.isclass):
            if issubclass(member, enum.StrEnum) and member is not enum.StrEnum:
                values |= {m.value for m in member}
    return values


def _sql_texts():
    """The SQL of every statement in the sql.py modules: plain strings, and text() and Core
    statements compiled for both engines."""
    from sqlalchemy.dialects import postgresql, sqlite
    for module in (orders_sql, payments_sql, ledger_sql):
        for name, value in vars(module).items():
            if isinstance(value, str) and name.isupper():
                yield f"{module.__name__}.{name}", value
            elif isinstance(value, ClauseElement) and hasattr(value, "compile"):
                for dialect in (postgresql.dialect(), sqlite.dialect()):
                    yield f"{module.__name__}.{name}", str(value.compile(dialect=dialect))


def test_no_status_or_kind_is_typed_inside_sql_text():
    values = _enum_values()
    assert {"paid", "pending_payment", "created", "seller_staff", "product", "sale"} <= values
    found = [(name, value) for name, sql in _sql_texts() for value in values
             if f"'{value}'" in sql]
    assert found == []
