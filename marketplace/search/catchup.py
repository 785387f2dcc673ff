"""Catching up with changes made through other app servers.

Each app server keeps its own index (in its instance folder) and applies the outbox right after
its own changing requests (see `register`). A change made through another server reaches this
one on a read: before the index answers a query, at most once per SEARCH_CATCHUP_SECONDS in a
process, one statement asks whether the outbox holds rows the index has not applied (the
newest outbox id against the index's watermark; while the index has gaps, also whether one of
them has shown up: two primary-key lookups). If so, the reading request applies them
(`service.sync`) before the index answers. When another thread of the process is checking
already, or another process holds the index's writer for longer than LOCK_WAIT, the query is
answered from the index as it is and a later check tries again. A check never makes a read
fail: an error is logged and the index answers.

A server whose search folder holds no index answers from the database (the catalogue's
fallback). With SEARCH_BUILD_MISSING (on outside test mode) its first check also starts
building the index in a background thread: one process of the server builds (a file lock in
the search folder), the others keep answering from the database until the index is swapped in;
a failed build is tried again after BUILD_RETRY.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.core.db import reset_write_intent, set_write_intent
from marketplace.search import engine, service
from marketplace.search.models import SearchOutbox

log = logging.getLogger(__name__)

LOCK_WAIT = 0.1  # seconds a reading request waits for another process's index writer
BUILD_RETRY = 60.0  # seconds before a missing index is built again after a failed build
BUILD_LOCK = "build.lock"  # file in the search root: held by the process building the index


class Outcome(StrEnum):
    waited = "waited"  # not checked: checked less than the interval ago, or by another thread
    current = "current"  # the index had applied every committed row
    applied = "applied"  # the index was behind and the outbox was applied
    busy = "busy"  # behind, but another writer held the index: answered as it is
    missing = "missing"  # no index under the root (a build may have been started)
    failed = "failed"  # the check raised: logged, the index answered as it is


class Throttle:
    """One check per `interval` seconds in this process (`clock` in seconds, monotonic), by one
    thread at a time: a thread that finds another checking does not wait for it."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._next = float("-inf")

    @contextmanager
    def turn(self) -> Iterator[bool]:
        """True inside when this thread checks now."""
        if self.clock() < self._next or not self._lock.acquire(blocking=False):
            yield False
            return
        try:
            now = self.clock()
            if now < self._next:  # another thread checked between the two looks
                yield False
                return
            self._next = now + self.interval
            yield True
        finally:
            self._lock.release()


class Follower:
    """This process's following of the index under one search root."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic):
        self.throttle = Throttle(interval, clock)
        self.builder: threading.Thread | None = None
        self.build_started = float("-inf")
        self.warned_ahead = False


_followers: dict[Path, Follower] = {}
_followers_lock = threading.Lock()


def follower_for(root: Path, interval: float) -> Follower:
    root = Path(root)
    with _followers_lock:
        follower = _followers.get(root)
        if follower is None:
            follower = _followers[root] = Follower(interval)
        follower.throttle.interval = interval
        return follower


def outbox_state(session: Session, applied: engine.Applied, now: float) -> tuple[int, int]:
    """(the newest outbox id, how many of the index's open gaps have shown up): one statement,
    primary-key lookups only."""
    gaps = applied.open_gaps(now)
    if not gaps:
        return session.scalar(select(func.max(SearchOutbox.id))) or 0, 0
    newest = select(func.max(SearchOutbox.id)).scalar_subquery()
    shown = (select(func.count()).select_from(SearchOutbox)
             .where(SearchOutbox.id.in_(gaps)).scalar_subquery())
    top, count = session.execute(select(newest, shown)).one()
    return top or 0, count or 0


def catch_up(root: Path, open_session: Callable[[], Session], *, interval: float,
             lock_wait: float = LOCK_WAIT, build_missing: bool = False,
             follower: Follower | None = None) -> Outcome:
    """Check (when due) whether the index under `root` is behind the outbox and apply it if so.
    `open_session` gives a new session on the primary database (closed here). Never raises."""
    follower = follower or follower_for(root, interval)
    with follower.throttle.turn() as mine:
        if not mine:
            return Outcome.waited
        token = set_write_intent(False)  # SQLite: the check and the sync only read
        try:
            return _check(Path(root), open_session, lock_wait, build_missing, follower)
        except Exception:
            log.exception("checking the search index against the outbox failed; "
                          "answering from the index as it is")
            return Outcome.failed
        finally:
            reset_write_intent(token)


def _check(root: Path, open_session: Callable[[], Session], lock_wait: float,
           build_missing: bool, follower: Follower) -> Outcome:
    directory = engine.live_directory(root)
    if directory is None:
        if build_missing:
            _start_build(root, open_session, follower)
        return Outcome.missing
    applied = engine.read_applied(directory)
    with open_session() as session:
        newest, shown = outbox_state(session, applied, time.time())
        if newest < applied.outbox_id and not follower.warned_ahead:
            follower.warned_ahead = True
            log.warning("the search index under %s has applied outbox rows up to %d, the "
                        "database's newest is %d (another database?): run flask search reindex",
                        root, applied.outbox_id, newest)
        if newest <= applied.outbox_id and not shown:
            return Outcome.current
        report = service.sync(session, root, timeout=lock_wait)
    if report.skipped == "index busy":
        return Outcome.busy
    if report.skipped:
        return Outcome.missing
    return Outcome.applied


# ---- a server without an index ------------------------------------------------------------------

def _start_build(root: Path, open_session: Callable[[], Session], follower: Follower) -> None:
    if follower.builder is not None and follower.builder.is_alive():
        return
    now = time.monotonic()
    if now - follower.build_started < BUILD_RETRY:
        return
    follower.build_started = now
    follower.builder = threading.Thread(target=build_missing_index, args=(root, open_session),
                                        name="search-build", daemon=True)
    follower.builder.start()


def build_missing_index(root: Path, open_session: Callable[[], Session]) -> bool:
    """Build the index under `root` if there is none and no other process is building it.
    True when this call built it."""
    from whoosh.util.filelock import FileLock

    root = Path(root)
    token = set_write_intent(False)
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(root / BUILD_LOCK))
        if not lock.acquire(blocking=False):
            return False  # another process of this server builds it
        try:
            if engine.live_directory(root) is not None:
                return False
            log.warning("no search index under %s: building it from the database "
                        "(the database answers searches meanwhile)", root)
            started = time.monotonic()
            with open_session() as session:
                _directory, count = service.reindex(session, root)
            log.warning("search index built under %s: %d products in %.1f s", root, count,
                        time.monotonic() - started)
            return True
        finally:
            lock.release()
    except Exception:
        log.exception("building the missing search index under %s failed", root)
        return False
    finally:
        reset_write_intent(token)
