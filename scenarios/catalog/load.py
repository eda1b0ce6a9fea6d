"""`lbaws load`'s experiment: the fixed stages under load, in containers with nofile=1024: every request
answered, no zombie, the server's descriptors back where they started.

Not an experiment of the text, so not in the catalog's MODULES (`lbaws scenario --all` leaves it out):
the same runner, probes and reports, asked whether the text's fixes hold far past its 128 clients.
"""
from __future__ import annotations

from scenarios.vocabulary.spec import Limits, Load, Pause, Scenario, ServerSpec, Settle, Snapshot, Trial, Until
from scenarios.vocabulary.verdict import Judgment

REQUESTS = 10_000
CONCURRENCY = 256
LIMITS = Limits(nofile=1024, nproc=2048, memory="2g")
# How a stage is done after the load: a forking stage once no child lives (a zombie left then is one
# for good); a stage whose workers live on would only wait for a pause.
CHILDREN_DONE = Settle(until=Until.NO_LIVE_CHILDREN, quiet=1.0, timeout=60)
# prefork's workers live on: a short pause lets them close the last connections before the count.
WORKERS_IDLE = Pause(seconds=2.0)
# The stages under test, one trial each, with how each settles; a new fixed stage is one more entry.
STAGES = {
    "3g": (ServerSpec(stage="3g", limits=LIMITS), CHILDREN_DONE),
    "3h": (ServerSpec(stage="3h", app="wsgiapp:app", image="wsgi", limits=LIMITS), CHILDREN_DONE),
    "prefork": (ServerSpec(stage="prefork", app="wsgiapp:app", image="wsgi", limits=LIMITS), WORKERS_IDLE),
}
FAILURES = ("refused", "timed_out", "reset", "errors", "unended")
# What one request may take before it counts as failed: 256 at a time queue for a server that forks
# some 40 to 200 times a second on two shared cores, so the client's default of 10 s would count
# slow answers as failures.
READ_TIMEOUT = 60.0


def judge_load(requests: int):
    def judge(obs) -> Judgment:
        parts, numbers, ok = [], {}, True
        for key, runs in obs.trials.items():
            record = runs[0]
            load = record.load()
            answered = int(load.summary.get("status_counts", {}).get("200", 0)) if load.summary else 0
            failed = requests - answered
            zombies = record.last_alive().zombies
            before, after = record.baseline_fds, record.final_fds
            held = (not record.died and load.exit == 0 and failed == 0
                    and all(load.count(name) == 0 for name in FAILURES)
                    and zombies == 0 and before is not None and after == before)
            ok = ok and held
            parts.append(f"{key}: {answered}/{requests} answered, {failed} failed, peak {load.count('max_concurrent_open')}"
                         f" open, {zombies} zombies after, descriptors {before} -> {after}, {load.wall_s:.1f} s")
            numbers.update({f"{key}_requests": requests, f"{key}_answered": answered, f"{key}_failed": failed,
                            **{f"{key}_{name}": load.count(name) for name in FAILURES},
                            f"{key}_peak_concurrent": load.count("max_concurrent_open"),
                            f"{key}_zombies_after": zombies, f"{key}_peak_zombies": record.peak("zombies"),
                            f"{key}_peak_live_children": record.peak("live"),
                            f"{key}_baseline_fds": before, f"{key}_final_fds": after,
                            f"{key}_seconds": load.wall_s})
        return Judgment.of(reproduced=ok, observed="; ".join(parts) + ".", numbers=numbers)
    return judge


def load_scenario(requests: int = REQUESTS, concurrency: int = CONCURRENCY, stages=tuple(STAGES)) -> Scenario:
    # Bounded, yet far above what a working server needs (some 40 to 200 requests/s on two shared cores).
    deadline = 60 + requests / 10
    return Scenario(
        name="load",
        section="Part 3: webserver3g.py and webserver3h.py, far past the text's 128 clients",
        summary=f"{requests} requests, {concurrency} at a time, nofile={LIMITS.nofile}: "
                "all answered, no zombie, descriptors back to start",
        prediction=(f"The fixed stages answer all {requests} requests with no failure, leave no zombie, "
                    "and end with the descriptors they started with."),
        why=("waitpid(-1, WNOHANG) in a loop reaps every finished child whatever the number of SIGCHLDs, and "
             "the parent closes its copy of each client socket (prefork's workers close each connection they "
             "are done with), so neither processes nor descriptors pile up however long the load lasts."),
        trials=tuple(
            Trial(stage, STAGES[stage][0],
                  (Load(clients=concurrency, requests=requests, deadline=deadline, connect_timeout=READ_TIMEOUT,
                        read_timeout=READ_TIMEOUT),
                   STAGES[stage][1], Snapshot(key="after")),
                  title=f"{requests} requests, {concurrency} at a time")
            for stage in stages),
        judge=judge_load(requests),
        floods=True,
    )
