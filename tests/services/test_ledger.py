"""The attribution ledger on a real database, SQLite and PostgreSQL: entries are chained in order,
the database itself refuses UPDATE and DELETE, concurrent appends make one gap-free chain, and
tampering (a changed amount, a deleted entry, two entries reordered) makes `verify` and
`flask ledger verify` fail and name the entry."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from marketplace.extensions import db
from marketplace.ledger import chain as services
from marketplace.ledger import rules
from marketplace.ledger.chain import NewEntry
from marketplace.ledger.models import LedgerEntry, LedgerHead
from marketplace.orders import services as orders
from marketplace.orders.models import OrderLine
from marketplace.orders.services import AddressInput, LineInput
from tests.fixtures.concurrency import run_at_once
from tests.fixtures.factories import (
    DELIVERY,
    make_household,
    make_product,
    make_seller,
    make_user,
)


@pytest.fixture
def world(session):
    """Two order lines and three households to attribute them to."""
    seller = make_seller(session)
    products = [make_product(session, seller, name=f"茶叶{i}", stock=50) for i in range(2)]
    buyer = make_user(session, "buyer")
    households = [make_household(session, n=900 + i).id for i in range(3)]
    session.commit()
    orders.checkout(session, buyer, [LineInput(p.id, 1) for p in products],
                    AddressInput(**DELIVERY), idempotency_key="ledger-test-1")
    session.commit()
    lines = list(session.scalars(select(OrderLine.id).order_by(OrderLine.id)))
    return {"households": households, "lines": lines}


def post(session, world, amounts):
    """Entries for the given amounts, cycling through the households and lines."""
    hh, lines = world["households"], world["lines"]
    chained = services.append(session, [NewEntry(hh[i % 3], lines[i % 2], a)
                                        for i, a in enumerate(amounts)])
    session.commit()
    return chained


def raw(session, sql: str):
    session.execute(text(sql))
    session.commit()


def without_triggers(session, sql: str) -> None:
    """Tamper as someone who owns the database would: with the guarding triggers out of the way."""
    if session.get_bind().dialect.name == "postgresql":
        raw(session, "ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only")
        raw(session, sql)
        raw(session, "ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only")
    else:
        triggers = dict(session.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'ledger_entries'")).all())
        for name in triggers:
            raw(session, f"DROP TRIGGER {name}")
        raw(session, sql)
        for definition in triggers.values():
            raw(session, definition)


def test_entries_are_numbered_and_chained(session, world):
    first = post(session, world, [500, 300, 200])
    second = post(session, world, [-70])  # back from the first household's 500
    assert [e.seq for e in first + second] == [1, 2, 3, 4]
    assert first[0].prev_hash == rules.GENESIS_HASH
    assert second[0].prev_hash == first[-1].hash
    stored = session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)).all()
    assert [(e.amount_fen, e.kind) for e in stored] == [
        (500, "sale"), (300, "sale"), (200, "sale"), (-70, "reversal")]
    head = session.get(LedgerHead, 1)
    assert (head.last_seq, head.last_hash) == (4, second[0].hash)
    verdict = services.verify(session, lines=False)  # hand-written: no line implies them
    assert verdict.ok and verdict.entries == 4
    with pytest.raises(ValueError):
        services.append(session, [NewEntry(world["households"][0], world["lines"][0], 0)])


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_entries SET amount_fen = amount_fen + 1",
    "DELETE FROM ledger_entries",
])
def test_the_database_refuses_updates_and_deletes(session, world, statement):
    post(session, world, [500, 300])
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert session.scalar(select(func.sum(LedgerEntry.amount_fen))) == 800


def test_a_changed_amount_is_named(session, world, app):
    post(session, world, [500, 300, 200, 100])
    without_triggers(session, "UPDATE ledger_entries SET amount_fen = 301 WHERE seq = 2")
    verdict = services.verify(session)
    assert (verdict.ok, verdict.seq, verdict.entries) == (False, 2, 1)
    assert "哈希" in verdict.problem
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 1 and "第 2 条" in result.output


def test_an_early_break_stops_reading_ahead_in_small_batches(session, world):
    """Batches of 2 from 30 entries: the break is found while the reader (PostgreSQL) is still
    batches ahead; it is stopped, and the session goes on working."""
    post(session, world, list(range(100, 130)))
    without_triggers(session, "UPDATE ledger_entries SET amount_fen = 1 WHERE seq = 5")
    for _ in range(3):
        verdict = services.verify(session, batch=2)
        assert (verdict.ok, verdict.seq, verdict.entries) == (False, 5, 4)
    session.rollback()
    assert services.entry_count(session) == 30
    assert services.verify(session, batch=7, lines=False).seq == 5


def test_a_deleted_entry_is_named(session, world):
    post(session, world, [500, 300, 200, 100])
    without_triggers(session, "DELETE FROM ledger_entries WHERE seq = 3")
    verdict = services.verify(session)
    assert (verdict.ok, verdict.seq) == (False, 4) and "编号为 4，此处应为 3" in verdict.problem


def test_the_last_entry_deleted_is_found_by_the_head(session, world):
    post(session, world, [500, 300])
    without_triggers(session, "DELETE FROM ledger_entries WHERE seq = 2")
    verdict = services.verify(session)
    assert (verdict.ok, verdict.seq) == (False, 2) and "台账头" in verdict.problem


def test_two_entries_reordered_are_named(session, world):
    post(session, world, [500, 300, 200, 100])
    without_triggers(session, "UPDATE ledger_entries SET seq = 99 WHERE seq = 2")
    without_triggers(session, "UPDATE ledger_entries SET seq = 2 WHERE seq = 3")
    without_triggers(session, "UPDATE ledger_entries SET seq = 3 WHERE seq = 99")
    verdict = services.verify(session)
    assert (verdict.ok, verdict.seq) == (False, 2)


def test_more_given_back_than_given_is_named(session, world):
    # the second household gets 300 on the second line (entry 2) and gives 400 back (entry 8)
    post(session, world, [500, 300, 200, 100, 50, 60, 70, -400])
    verdict = services.verify(session)
    assert (verdict.ok, verdict.seq) == (False, 8) and "冲回的多于所得" in verdict.problem


def test_entries_no_order_line_implies_are_named(session, world):
    post(session, world, [500, 300])  # lines that were never attributed
    verdict = services.verify(session)
    assert (verdict.ok, verdict.seq) == (False, 1) and "从未归属" in verdict.problem


def test_concurrent_appends_make_one_gap_free_chain(app, session, world):
    session.commit()

    def append(i: int) -> str:
        services.append(db.session, [NewEntry(world["households"][i % 3],
                                              world["lines"][i % 2], 100 + i)] * 3)
        return "ok"

    errors = [r for r in run_at_once(app, 8, append) if r != "ok"]
    assert not errors
    session.expire_all()
    assert list(session.scalars(select(LedgerEntry.seq).order_by(LedgerEntry.seq))) == list(
        range(1, 25))
    assert services.verify(session, lines=False).ok


def rewrite_from(session, seq: int, amount: int) -> None:
    """Rewrite the chain consistently from entry `seq` on (its amount changed, every later hash
    recomputed, the head row moved): what someone owning the database and the code could do."""
    rows = session.execute(select(LedgerEntry).where(LedgerEntry.seq >= seq - 1)
                           .order_by(LedgerEntry.seq)).scalars().all()
    prev = rows[0] if rows[0].seq == seq - 1 else None
    prev_seq, prev_hash = (prev.seq, prev.hash) if prev else (0, rules.GENESIS_HASH)
    statements = []
    for row in rows[1:] if prev else rows:
        made = rules.make_entry(prev_seq, prev_hash, row.household_id, row.order_line_id,
                                amount if row.seq == seq else row.amount_fen, row.kind,
                                row.created_at)
        statements.append(f"UPDATE ledger_entries SET amount_fen = {made.amount_fen}, "
                          f"prev_hash = '{made.prev_hash}', hash = '{made.hash}' "
                          f"WHERE seq = {made.seq}")
        prev_seq, prev_hash = made.seq, made.hash
    session.expunge_all()
    for sql in statements:
        without_triggers(session, sql)
    raw(session, f"UPDATE ledger_head SET last_seq = {prev_seq}, last_hash = '{prev_hash}'")


def test_anchors_written_down_earlier_catch_a_consistent_rewrite(session, world, app):
    post(session, world, [500, 300, 200, 100])
    lines = world["lines"]  # what the lines imply: 500 + 200 and 300 + 100
    raw(session, f"UPDATE order_lines SET attributable_fen = 700 WHERE id = {lines[0]}")
    raw(session, f"UPDATE order_lines SET attributable_fen = 400 WHERE id = {lines[1]}")
    runner = app.test_cli_runner()
    printed = runner.invoke(args=["ledger", "head"])
    assert printed.exit_code == 0
    anchor = printed.stdout.strip().splitlines()[0]
    head = services.head(session)
    assert anchor == head.anchor == f"4:{head.hash}" and head.seq == 4
    middle = f"2:{session.get(LedgerEntry, 2).hash}"
    ok = runner.invoke(args=["ledger", "verify", "--anchor", anchor, "--anchor", middle])
    assert ok.exit_code == 0 and "2 个锚点相符" in ok.output and f"末条锚点：{anchor}" in ok.output

    rewrite_from(session, 3, 201)  # the chain holds together again, head row included ...
    assert services.verify(session, lines=False).ok
    verdict = services.verify(session, lines=False, anchors=dict([
        services.parse_anchor(anchor), services.parse_anchor(middle)]))
    assert (verdict.ok, verdict.seq, verdict.entries) == (False, 4, 3)  # ... but not through it
    assert "锚点" in verdict.problem
    failed = runner.invoke(args=["ledger", "verify", "--anchor", anchor])
    assert failed.exit_code == 1 and "第 4 条" in failed.output


def test_an_anchor_past_a_shortened_chain_is_named(session, world):
    post(session, world, [500, 300, 200])
    anchor = services.parse_anchor(services.head(session).anchor)
    without_triggers(session, "DELETE FROM ledger_entries WHERE seq = 3")
    raw(session, f"UPDATE ledger_head SET last_seq = 2, last_hash = "
                 f"'{session.get(LedgerEntry, 2).hash}'")
    assert services.verify(session, lines=False).ok  # the shorter chain holds together
    verdict = services.verify(session, lines=False, anchors=dict([anchor]))
    assert (verdict.ok, verdict.seq) == (False, 3) and "截短" in verdict.problem


@pytest.mark.parametrize("text", ["", "3", "x:" + "a" * 64, "0:" + "a" * 64, "3:abc",
                                  "3:" + "g" * 64])
def test_malformed_anchors_are_refused(app, text):
    with pytest.raises(ValueError):
        services.parse_anchor(text)
    result = app.test_cli_runner().invoke(args=["ledger", "verify", "--anchor", text])
    assert result.exit_code == 2 and "锚点格式不对" in result.output


def test_the_head_of_an_empty_ledger(session, app):
    assert services.head(session).seq == 0
    result = app.test_cli_runner().invoke(args=["ledger", "head"])
    assert result.exit_code == 0 and "台账还没有记录" in result.output
