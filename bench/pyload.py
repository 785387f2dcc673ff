"""A small closed-loop load generator for when `wrk` is not installed.

`concurrency` threads, each with one keep-alive http.client connection (reopened when the server
closes it, as gunicorn's sync workers do), send GET requests back to back until `duration`
seconds have passed or `max_requests` were sent in total. Only for 127.0.0.1.
"""
from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    errors: dict = field(default_factory=dict)
    tool: str = "python"


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def run(host: str, port: int, path: str, *, duration: float, concurrency: int,
        max_requests: int = 2_000_000, timeout: float = 10.0) -> LoadResult:
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the load generator only talks to the local machine")
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = {"connect": 0, "read": 0, "status": 0}
    lock = threading.Lock()
    sent = [0]
    start = time.perf_counter()
    deadline = start + duration

    def worker(slot: int) -> None:
        conn = None
        mine = latencies[slot]
        while time.perf_counter() < deadline:
            with lock:
                if sent[0] >= max_requests:
                    return
                sent[0] += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=timeout)
                t0 = time.perf_counter()
                conn.request("GET", path, headers={"Connection": "keep-alive"})
                resp = conn.getresponse()
                resp.read()
                mine.append((time.perf_counter() - t0) * 1000)
                if resp.status != 200:
                    with lock:
                        errors["status"] += 1
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                with lock:
                    errors["read" if conn is not None else "connect"] += 1
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.01)
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + timeout + 5)
    seconds = time.perf_counter() - start
    values = sorted(v for per in latencies for v in per)
    n = len(values)
    return LoadResult(requests=n, seconds=seconds, rps=n / seconds if seconds else 0.0,
                      p50_ms=percentile(values, 50), p95_ms=percentile(values, 95),
                      p99_ms=percentile(values, 99), max_ms=values[-1] if values else 0.0,
                      mean_ms=sum(values) / n if n else 0.0, errors=errors)
