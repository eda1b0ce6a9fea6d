"""The count a server reached when it died of its limit, as its judge computed it.

The last sample comes a period before the death (fd-exhaustion's last sample sees 223 descriptors; 3d
held 256 when accept() failed), so a timeline that ends at the last sample never reaches the limit it
hit. The judges know better: fd-exhaustion's fds_at_death counts the connections 3d kept, and
nproc-exhaustion's children_at_death the children fork() made, and with the server itself that is
the processes RLIMIT_NPROC counted.
"""
from __future__ import annotations

from scenarios.vocabulary.spec import Watch

# watch -> (the judge's number, what to add to it for the charted count, the count's name on the chart)
NUMBERS = {Watch.NOFILE: ("fds_at_death", 0, "fds"), Watch.NPROC: ("children_at_death", 1, "processes")}


def death_time(record) -> float | None:
    """When the server was first seen gone, else its last sample; None if it did not die."""
    if not record.died or not record.samples:
        return None
    gone = [s.t for s in record.samples if not s.alive]
    return gone[0] if gone else record.samples[-1].t


def at_death(observations, trials: dict, numbers: dict) -> dict:
    """{trial key: {"t", "value", "counter", "limit", "source"}} for the one trial whose server died.

    A judge's numbers speak of the run as a whole: they are placed only where exactly one trial, run
    once, died, so a number never lands on a trial it was not computed for.
    """
    died = [(key, runs[0]) for key, runs in observations.trials.items() if len(runs) == 1 and runs[0].died]
    if len(died) != 1:
        return {}
    key, record = died[0]
    trial = trials.get(key)
    if trial is None or trial.watch not in NUMBERS:
        return {}
    name, extra, counter = NUMBERS[trial.watch]
    value, t = numbers.get(name), death_time(record)
    if not isinstance(value, int) or t is None:
        return {}
    limit = record.limits.get(trial.watch.value)
    return {key: {"t": t, "value": value + extra, "counter": counter, "limit": limit,
                  "source": f"the judge's {name}" + (f" + {extra} (the server)" if extra else "")}}
