"""wrk as `lbaws bench` drives it: the command line, the Lua script that reports, and its reading.

wrk's own summary rounds (e.g. "1.20ms") and varies its units; the script's done() hook prints the
exact counts and percentiles as one JSON line, which parse() reads.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

MARK = "LBAWS-WRK "
# done() runs once, after every thread stopped: latency is wrk's merged histogram, in microseconds.
SCRIPT = """\
-- lbaws bench: one JSON line with the run's counts, errors and latency percentiles (microseconds).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,' ..
    '"status":%.0f,"timeout":%.0f,"p50_us":%.0f,"p99_us":%.0f,"max_us":%.0f}\\n',
    "MARK", summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
""".replace("MARK", MARK)
SCRIPT_NAME = "lbaws-bench.lua"
# A response slower than this counts as a timeout error, not as a latency.
TIMEOUT_S = 5
ERROR_KINDS = ("connect", "read", "write", "status", "timeout")


class WrkOutputError(ValueError):
    """wrk ended without the script's line: it did not run, or could not reach the server."""


@dataclass(frozen=True)
class Measure:
    """One wrk run."""

    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: dict  # kind -> count, as ERROR_KINDS; "status" counts responses other than 2xx/3xx

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict:
        return {"requests": self.requests, "duration_s": round(self.duration_s, 3),
                "requests_per_s": round(self.requests_per_s, 1), "p50_ms": self.p50_ms, "p99_ms": self.p99_ms,
                "max_ms": self.max_ms, "errors": self.error_count, "errors_by_kind": dict(self.errors)}


def command(url: str, connections: int, duration_s: int, keep_alive: bool, script: str) -> list[str]:
    """One thread: wrk has a CPU of its own, and the server another."""
    argv = ["wrk", "--threads", "1", "--connections", str(connections), "--duration", f"{duration_s}s",
            "--timeout", f"{TIMEOUT_S}s", "--script", script]
    if not keep_alive:
        argv += ["--header", "Connection: close"]
    return argv + [url]


def parse(stdout: str, stderr: str = "") -> Measure:
    """The Measure of one run from wrk's output, or WrkOutputError saying what wrk said instead."""
    lines = [line for line in stdout.splitlines() if line.startswith(MARK)]
    if not lines:
        said = " | ".join(line.strip() for line in (stderr + "\n" + stdout).splitlines() if line.strip())
        raise WrkOutputError(f"wrk printed no result: {said[-300:] or 'nothing'}")
    try:
        data = json.loads(lines[-1][len(MARK):])
        errors = {kind: int(data[kind]) for kind in ERROR_KINDS}
        return Measure(requests=int(data["requests"]), duration_s=data["duration_us"] / 1e6,
                       p50_ms=data["p50_us"] / 1e3, p99_ms=data["p99_us"] / 1e3, max_ms=data["max_us"] / 1e3,
                       errors=errors)
    except (ValueError, KeyError, TypeError) as exc:
        raise WrkOutputError(f"wrk's result line is malformed ({exc}): {lines[-1][:200]}") from None


def version(output: str) -> str:
    """'wrk 4.1.0 [epoll] Copyright ...' -> '4.1.0'."""
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "wrk":
            return parts[1]
    return "unknown"
