"""Rounds into figures: the median of each measure over the interleaved rounds, and its spread."""
from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    def as_dict(self, digits: int = 2) -> dict:
        return {"median": round(self.median, digits), "min": round(self.low, digits), "max": round(self.high, digits)}


def spread(values) -> Spread:
    values = list(values)
    if not values:
        raise ValueError("no rounds to summarise")
    return Spread(statistics.median(values), min(values), max(values))


def summarise(measures) -> dict:
    """{requests_per_s, p50_ms, p99_ms: Spread, errors: total over the rounds, rounds: n}.

    Errors are summed, not a median: one round's failures must not vanish behind two clean ones.
    """
    measures = list(measures)
    return {"requests_per_s": spread(m.requests_per_s for m in measures),
            "p50_ms": spread(m.p50_ms for m in measures),
            "p99_ms": spread(m.p99_ms for m in measures),
            "errors": sum(m.error_count for m in measures),
            "rounds": len(measures)}


def ratio(value: float, baseline: float) -> float | None:
    return value / baseline if baseline > 0 else None
