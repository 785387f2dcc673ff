"""The read path's check against the search outbox (search.catchup): at most once per interval
and by one thread at a time, never raising; and what a sync has applied (service.advance):
the watermark and the gaps below it."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from marketplace.search import catchup, engine
from marketplace.search.service import MAX_GAPS, RECENT, advance


class Clock:
    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_one_check_per_interval():
    clock = Clock()
    throttle = catchup.Throttle(1.0, clock)
    turns = []
    for t in (100.0, 100.2, 100.99, 101.0, 101.5, 102.3, 102.4):
        clock.now = t
        with throttle.turn() as mine:
            turns.append(mine)
    assert turns == [True, False, False, True, False, True, False]


def test_an_interval_of_zero_checks_every_time():
    throttle = catchup.Throttle(0.0, Clock())
    for _ in range(3):
        with throttle.turn() as mine:
            assert mine


def test_a_thread_does_not_wait_for_another_checking():
    clock = Clock()
    throttle = catchup.Throttle(1.0, clock)
    inside, release, seen = threading.Event(), threading.Event(), []

    def first():
        with throttle.turn() as mine:
            seen.append(("first", mine))
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(5)
    clock.now += 5  # due again by the clock, but the first thread still checks
    with throttle.turn() as mine:
        seen.append(("second", mine))
    release.set()
    thread.join(5)
    assert seen == [("first", True), ("second", False)]
    with throttle.turn() as mine:  # the first check started at 100: due again at 105 and after
        assert mine


def _live(root):
    generation = engine.new_generation(root)
    (root / engine.CURRENT).write_text(generation.name, encoding="utf-8")
    return generation


def test_a_failing_check_is_logged_and_answers(tmp_path, caplog):
    _live(tmp_path)

    def broken():
        raise RuntimeError("database gone")

    follower = catchup.Follower(1.0, Clock())
    outcome = catchup.catch_up(tmp_path, broken, interval=1.0, follower=follower)
    assert outcome == catchup.Outcome.failed
    assert "database gone" in caplog.text
    # the next read within the interval does not try again
    assert catchup.catch_up(tmp_path, broken, interval=1.0,
                            follower=follower) == catchup.Outcome.waited


def test_no_index_is_reported_without_touching_the_database(tmp_path):
    def unused():
        raise AssertionError("no query without an index")

    outcome = catchup.catch_up(tmp_path / "empty", unused, interval=1.0,
                               follower=catchup.Follower(1.0, Clock()))
    assert outcome == catchup.Outcome.missing


def test_a_build_waits_for_the_process_that_builds(tmp_path):
    from whoosh.util.filelock import FileLock
    lock = FileLock(str(tmp_path / catchup.BUILD_LOCK))
    assert lock.acquire()
    try:
        assert catchup.build_missing_index(tmp_path, lambda: pytest.fail("no build")) is False
    finally:
        lock.release()


# ---- watermark and gaps -------------------------------------------------------------------------

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def rows(*ids, age=timedelta(seconds=1)):
    return [SimpleNamespace(id=i, created_at=NOW - age) for i in ids]


def test_ids_skipped_under_recent_rows_are_gaps_until_they_are_old():
    now = NOW.timestamp()
    applied = advance(engine.Applied(10), rows(11, 13, 16), now)
    assert applied.outbox_id == 16
    assert sorted(applied.gaps) == [12, 14, 15]
    until = (NOW - timedelta(seconds=1) + RECENT).timestamp()
    assert set(applied.gaps.values()) == {until}
    assert applied.open_gaps(until - 1) == [12, 14, 15] and applied.open_gaps(until) == []
    # an old neighbour: the skipped ids were rolled back long ago
    assert advance(engine.Applied(10), rows(11, 13, age=RECENT * 2), now).gaps == {}


def test_gaps_that_show_up_or_expire_are_dropped():
    now = NOW.timestamp()
    applied = engine.Applied(16, {12: now + 30, 14: now + 30, 15: now - 1})
    after = advance(applied, rows(12, 17), now)
    assert after.outbox_id == 17 and after.gaps == {14: now + 30}
    assert advance(applied, [], now) == engine.Applied(16, {12: now + 30, 14: now + 30})


def test_gaps_are_bounded_keeping_the_highest():
    now = NOW.timestamp()
    applied = advance(engine.Applied(0), rows(MAX_GAPS * 3), now)
    assert len(applied.gaps) == MAX_GAPS
    assert min(applied.gaps) == MAX_GAPS * 2 and max(applied.gaps) == MAX_GAPS * 3 - 1


def test_applied_state_round_trips(tmp_path):
    state = engine.Applied(42, {40: 1234.5, 41: 1235.0})
    engine.write_applied(tmp_path, state)
    assert engine.read_applied(tmp_path) == state
    engine.write_watermark(tmp_path, 7)  # the older writer: no gaps
    assert engine.read_applied(tmp_path) == engine.Applied(7)
    (tmp_path / engine.WATERMARK).write_text('{"outbox_id": 9}')  # an index from before gaps
    assert engine.read_applied(tmp_path) == engine.Applied(9)
