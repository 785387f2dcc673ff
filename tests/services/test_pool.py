"""The donation pool: donations paid through the providers into the hash-chained pool ledger,
captures that cannot be kept, money for a claimed need, allocations to approved amount needs,
and `verify` (also a property test over random donations, allocations and refunds)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEntry
from marketplace.core.errors import (
    Conflict,
    Forbidden,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.time import now_utc
from marketplace.help.needs import claims
from marketplace.help.needs.models import (
    Claim,
    ClaimStatus,
    Need,
    NeedCategory,
    NeedEvent,
    NeedStatus,
    NeedWhat,
)
from marketplace.help.pool import allocations, chain, donations
from marketplace.help.pool.models import (
    Donation,
    DonationKind,
    DonationStatus,
    PoolEntry,
    PoolHead,
)
from tests.fixtures.factories import make_household, make_user, region


def make_need(session, household, *, amount_fen=50_000, status=NeedStatus.open,
              what=NeedWhat.amount, poster=None):
    poster = poster or make_user(session, Role.liaison)
    need = Need(household_id=household.id, village_id=household.village_id,
                category=NeedCategory.education, title="孩子学费", what=what,
                amount_fen=amount_fen if what == NeedWhat.amount else None,
                expires_on=date.today() + timedelta(days=60), status=status,
                posted_by_id=poster.id, approved_at=now_utc())
    session.add(need)
    session.flush()
    return need


@pytest.fixture
def world(session):
    office = make_user(session, Role.office, region_obj=region(session, "430525"))
    other_office = make_user(session, Role.office, region_obj=region(session, "431224"))
    donor = make_user(session, name="爱心人士")
    admin = make_user(session, Role.platform_admin)
    household = make_household(session, name="张三明")
    need = make_need(session, household)
    session.commit()
    return {"office": office, "other": other_office, "donor": donor, "need": need,
            "admin": admin, "household": household}


def raw(session, sql: str):
    session.execute(text(sql))
    session.commit()


def without_triggers(session, sql: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        raw(session, "ALTER TABLE pool_entries DISABLE TRIGGER pool_entries_append_only")
        raw(session, sql)
        raw(session, "ALTER TABLE pool_entries ENABLE TRIGGER pool_entries_append_only")
    else:
        triggers = dict(session.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'pool_entries'")).all())
        for name in triggers:
            raw(session, f"DROP TRIGGER {name}")
        raw(session, sql)
        for definition in triggers.values():
            raw(session, definition)


# ---- donations --------------------------------------------------------------------------------

def test_a_donation_is_paid_with_a_receipt_and_a_pool_entry(session, world):
    donation = donations.donate(session, world["donor"], 10_000, display_name="一位老师")
    session.commit()
    assert donation.status == DonationStatus.paid and donation.kind == DonationKind.pool
    assert donation.receipt_no.startswith("JZ") and donation.paid_at is not None
    entry = session.scalar(select(PoolEntry))
    assert (entry.seq, entry.kind, entry.amount_fen, entry.donation_id) == (
        1, "donation", 10_000, donation.id)
    head = session.get(PoolHead, 1)
    assert (head.last_seq, head.last_hash) == (1, entry.hash)
    assert chain.totals(session).balance == 10_000
    assert chain.verify(session).ok


@pytest.mark.parametrize("amount", [0, -5, 100_000_001, True, "100"])
def test_bad_amounts_are_refused(session, world, amount):
    with pytest.raises(ValidationFailed) as err:
        donations.donate(session, world["donor"], amount)
    assert err.value.field == "amount" if hasattr(err.value, "field") else True
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Donation)) == 0


def test_only_the_simulated_provider(session, world):
    with pytest.raises(ValidationFailed, match="simulated"):
        donations.donate(session, world["donor"], 100, provider="paypal")


def test_a_second_capture_is_refunded_and_recorded(session, world):
    donation = donations.donate(session, world["donor"], 500)
    session.commit()
    again = donations.capture(session, donation, 500, "sim-again",
                              providers={"simulated": _Sim()})
    session.commit()
    assert again.id != donation.id and again.status == DonationStatus.refunded
    assert "重复支付" in again.reason and again.reference == "sim-again"
    assert chain.totals(session).received == 500  # kept once
    assert chain.verify(session).ok


def test_a_wrong_amount_is_refunded_not_kept(session, world):
    pending = donations.start(session, world["donor"], 800)
    kept = donations.capture(session, pending, 700, "sim-wrong",
                             providers={"simulated": _Sim()})
    session.commit()
    assert kept.status == DonationStatus.refunded and "不符" in kept.reason
    assert session.get(Donation, pending.id).status == DonationStatus.pending
    assert chain.totals(session).received == 0


def test_a_refund_the_provider_cannot_make_is_on_record(session, world):
    pending = donations.start(session, world["donor"], 800)
    record = donations.capture(session, pending, 900, "sim-x", providers={})
    session.commit()
    assert record.status == DonationStatus.failed and "待人工处理" in record.reason


class _Sim:
    name = "simulated"

    def refund(self, reference, amount, *, idempotency_key):
        return f"sim-refund-{idempotency_key}"


def test_receipts_are_their_donors(session, world):
    donation = donations.donate(session, world["donor"], 300)
    session.commit()
    assert donations.receipt(session, world["donor"], donation.id) is donation
    with pytest.raises(NotFound):
        donations.receipt(session, world["office"], donation.id)
    assert donations.receipt(session, world["admin"], donation.id) is donation


def test_an_admin_gives_a_donation_back(session, world):
    donation = donations.donate(session, world["donor"], 300)
    session.commit()
    with pytest.raises(Forbidden):
        donations.give_back(session, world["office"], donation, "捐赠人要求")
    given_back = donations.give_back(session, world["admin"], donation, "捐赠人要求",
                                     providers={"simulated": _Sim()})
    session.commit()
    assert given_back.donation.status == DonationStatus.refunded and given_back.reference
    assert chain.totals(session) == chain.Totals(300, 0, 300, 2)
    assert chain.verify(session).ok
    with pytest.raises(IllegalTransition):
        donations.give_back(session, world["admin"], donation, "再退一次")


# ---- money for a claimed need -----------------------------------------------------------------

def test_pay_claim_gives_the_need_money_outside_the_pool(session, world):
    need = world["need"]
    claim = Claim(need_id=need.id, donor_id=world["donor"].id, amount_fen=20_000,
                  held_until=now_utc() + timedelta(days=7))
    session.add(claim)
    session.flush()
    donation = donations.pay_claim(session, world["donor"], claim)
    session.commit()
    assert (donation.kind, donation.status, donation.amount_fen) == (
        DonationKind.claim, DonationStatus.paid, 20_000)
    assert claim.donation_id == donation.id and donation.receipt_no
    assert chain.entry_count(session) == 0 and chain.verify(session).ok
    with pytest.raises(Conflict):
        donations.pay_claim(session, world["donor"], claim)
    with pytest.raises(NotFound):
        donations.pay_claim(session, world["office"], claim)


def test_pay_claim_of_a_whole_amount_need(session, world):
    need = world["need"]
    claim = Claim(need_id=need.id, donor_id=world["donor"].id, amount_fen=None,
                  held_until=now_utc() + timedelta(days=7))
    session.add(claim)
    session.flush()
    assert donations.pay_claim(session, world["donor"], claim).amount_fen == 50_000
    lapsed = Claim(need_id=need.id, donor_id=world["donor"].id, amount_fen=100,
                   status=ClaimStatus.lapsed, held_until=now_utc())
    session.add(lapsed)
    session.flush()
    with pytest.raises(IllegalTransition):
        donations.pay_claim(session, world["donor"], lapsed)


# ---- allocations ------------------------------------------------------------------------------

def test_an_office_allocates_to_a_need_in_its_subtree(session, world):
    donations.donate(session, world["donor"], 30_000)
    session.commit()
    need = world["need"]
    allocation = allocations.allocate(session, world["office"], need, 20_000, "学费")
    session.commit()
    assert allocation.region_id == region(session, "430525").id
    assert need.claimed_fen == 20_000 and need.status == NeedStatus.open
    assert chain.totals(session) == chain.Totals(30_000, 20_000, 0, 2)
    kinds = session.scalars(select(NeedEvent.kind).where(NeedEvent.need_id == need.id)).all()
    assert kinds == ["allocated"]
    audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "pool_allocated"))
    assert audit.object_id == allocation.id and audit.actor_id == world["office"].id
    with pytest.raises(RuleBroken, match="余额"):  # 10,000 left in the pool, 30,000 to cover
        allocations.allocate(session, world["office"], need, 20_000)
    session.rollback()
    donations.donate(session, world["donor"], 50_000)
    with pytest.raises(RuleBroken, match="尚缺"):
        allocations.allocate(session, world["office"], need, 30_001)
    allocations.allocate(session, world["office"], need, 30_000)
    session.commit()
    assert need.status == NeedStatus.claimed and need.matched_at is not None
    assert chain.verify(session).ok
    items, total = allocations.published(session)
    assert total == 2 and items[0].household == "张*明" and items[0].village == "洪溪村"


def test_a_need_covered_by_the_pool_is_fulfilled_when_its_liaison_confirms(session, world):
    liaison = make_user(session, Role.liaison)
    world["household"].liaison_id = liaison.id
    donations.donate(session, world["donor"], 50_000)
    need = world["need"]
    allocations.allocate(session, world["office"], need, 50_000, "学费")
    session.commit()
    assert need.status == NeedStatus.claimed
    waiting = claims.awaiting_confirmation(session, liaison)
    assert [(c.need_id, c.amount_fen, c.status) for c in waiting] == [
        (need.id, 50_000, ClaimStatus.delivered)]
    claims.confirm(session, liaison, waiting[0], "已收到学费")
    session.commit()
    assert need.status == NeedStatus.fulfilled and need.fulfilled_at is not None


def test_allocations_are_refused_clearly(session, world):
    donations.donate(session, world["donor"], 30_000)
    session.commit()
    need = world["need"]
    with pytest.raises(NotFound):
        allocations.allocate(session, world["other"], need, 100)
    with pytest.raises(Forbidden):
        allocations.allocate(session, world["donor"], need, 100)
    with pytest.raises(ValidationFailed):
        allocations.allocate(session, world["office"], need, 0)
    pending = make_need(session, world["household"], status=NeedStatus.pending)
    with pytest.raises(RuleBroken, match="待审核"):
        allocations.allocate(session, world["office"], pending, 100)
    goods = make_need(session, world["household"], what=NeedWhat.items)
    with pytest.raises(RuleBroken, match="资金类"):
        allocations.allocate(session, world["office"], goods, 100)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(PoolEntry)) == 1


# ---- the ledger -------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", ["UPDATE pool_entries SET amount_fen = amount_fen + 1",
                                       "DELETE FROM pool_entries"])
def test_the_database_refuses_updates_and_deletes(session, world, statement):
    donations.donate(session, world["donor"], 300)
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()


def test_verify_names_an_altered_entry(session, world, app):
    for amount in (100, 200, 300):
        donations.donate(session, world["donor"], amount)
    session.commit()
    assert app.test_cli_runner().invoke(args=["pool", "verify"]).exit_code == 0
    without_triggers(session, "UPDATE pool_entries SET amount_fen = 201 WHERE seq = 2")
    verdict = chain.verify(session)
    assert (verdict.ok, verdict.seq, verdict.entries) == (False, 2, 1)
    result = app.test_cli_runner().invoke(args=["pool", "verify"])
    assert result.exit_code == 1 and "第 2 条" in result.output


def test_verify_names_a_deleted_last_entry_and_a_missing_one(session, world):
    for amount in (100, 200):
        donations.donate(session, world["donor"], amount)
    session.commit()
    without_triggers(session, "DELETE FROM pool_entries WHERE seq = 2")
    verdict = chain.verify(session)
    assert not verdict.ok and "台账头" in verdict.problem


# ---- the property -----------------------------------------------------------------------------

steps = st.lists(st.tuples(st.sampled_from(["donate", "allocate", "refund"]),
                           st.integers(min_value=1, max_value=60_000)), min_size=1, max_size=12)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_the_sums_hold_for_any_history(session, world, steps):
    session.rollback()
    session.execute(select(1))
    need = make_need(session, world["household"], amount_fen=10_000_000)
    session.commit()
    before = chain.totals(session)  # the examples share the test's database
    paid: list[Donation] = []
    received = allocated = refunded = 0
    for action, amount in steps:
        try:
            if action == "donate":
                paid.append(donations.donate(session, world["donor"], amount))
                received += amount
            elif action == "allocate":
                allocations.allocate(session, world["office"], need, amount)
                allocated += amount
            elif paid:
                donation = paid.pop(amount % len(paid))
                donations.give_back(session, world["admin"], donation, "测试退回")
                refunded += donation.amount_fen
            session.commit()
        except (RuleBroken, IllegalTransition):
            session.rollback()
    totals = chain.totals(session)
    entries_sum = session.scalar(select(func.coalesce(func.sum(PoolEntry.amount_fen), 0)))
    assert (totals.received - before.received, totals.allocated - before.allocated,
            totals.refunded - before.refunded) == (received, allocated, refunded)
    assert totals.received - totals.allocated - totals.refunded == totals.balance \
        == entries_sum >= 0
    assert before.balance + received - allocated - refunded == totals.balance
    verdict = chain.verify(session)
    assert verdict.ok, verdict.problem
    if totals.entries:
        without_triggers(session, f"UPDATE pool_entries SET amount_fen = amount_fen * 2 "
                                  f"WHERE seq = {totals.entries}")
        assert not chain.verify(session).ok
        without_triggers(session, f"UPDATE pool_entries SET amount_fen = amount_fen / 2 "
                                  f"WHERE seq = {totals.entries}")
        assert chain.verify(session).ok
