"""Part 3, webserver3f.py with client3.py --max-clients 128: zombies are back, because signals coalesce."""
from scenarios.spec import Load, Scenario, ServerSpec, Settle, Snapshot, Trial, Until
from scenarios.verdict import Judgment

CLIENTS = 128
RUNS = 5
# Stated before measuring: the race counts as reproduced when zombies remain in at least half the runs.
REQUIRED_RATE = 0.5


def zombies_left(record) -> int:
    return record.last_alive().zombies


def judge(obs) -> Judgment:
    runs = obs.runs("3f")
    counts = [zombies_left(r) for r in runs]
    served = [r.load().responses for r in runs]
    hit = sum(1 for c in counts if c > 0)
    rate = hit / len(runs)
    return Judgment.of(
        reproduced=rate >= REQUIRED_RATE and not any(r.died for r in runs),
        observed=(f"zombies remained after {hit} of {len(runs)} runs (rate {rate:.0%}, required "
                  f"{REQUIRED_RATE:.0%}); zombies left per run: {counts} (mean {sum(counts) / len(counts):.1f} "
                  f"of {CLIENTS} children); responses per run: {served}."),
        numbers={"clients": CLIENTS, "runs": len(runs), "runs_with_zombies": hit, "rate": round(rate, 3),
                 "required_rate": REQUIRED_RATE, "zombies_per_run": counts, "responses_per_run": served},
    )


SCENARIO = Scenario(
    name="missed-signals",
    section="Part 3: webserver3f.py with `client3.py --max-clients 128`",
    summary="128 children exit at once; SIGCHLDs coalesce and wait() reaps one per signal: zombies remain",
    prediction=("After 128 simultaneous connections, ps shows that zombies are back: the server missed several "
                "SIGCHLD signals."),
    why=("Standard signals are not queued: while one SIGCHLD is pending, more children exiting add nothing, so the "
         "handler runs fewer times than children exited. 3f's handler calls wait() once per run, so every "
         "coalesced signal leaves one zombie behind."),
    trials=(
        Trial("3f", ServerSpec(stage="3f"),
              (Load(clients=CLIENTS, read=True, deadline=30), Settle(until=Until.NO_LIVE_CHILDREN, quiet=1.0),
               Snapshot(key="after")), repeat=RUNS),
    ),
    judge=judge,
    repeatable=True,
)
