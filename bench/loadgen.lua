-- wrk script for bench/storefront.py: at the end prints one machine-readable line,
--   BENCH {"requests": ..., "rps": ..., "p50_ms": ..., "p95_ms": ..., "p99_ms": ..., ...}
-- wrk measures latency in microseconds; the figures below are milliseconds. errors.status counts
-- answers that are not 2xx/3xx (wrk's own definition).

done = function(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "bytes": %d, "rps": %.2f, ' ..
    '"p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "mean_ms": %.2f, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, seconds, summary.bytes, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end
