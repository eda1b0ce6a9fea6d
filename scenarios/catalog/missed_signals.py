"""Part 3, webserver3f.py with client3.py --max-clients 128: zombies are back, because signals coalesce.

Each run is judged on its own: a load client that failed takes away that run's response count, not its
zombies. A reader's 3f shows the lesson when some children, not all, stay zombies: it reaps, but one per
signal. None left means it reaps in a loop (3g's fix); all left means it never waits.
"""
from scenarios.catalog.lessons import DIES, NEVER_WAITS
from scenarios.judging.phrases import load_failure, who
from scenarios.vocabulary.results import MissingResult
from scenarios.vocabulary.spec import Load, Scenario, ServerSpec, Settle, Snapshot, Trial, Until
from scenarios.vocabulary.verdict import Judgment

CLIENTS = 128
RUNS = 5
# Stated before measuring: the race counts as reproduced when zombies remain in at least half the runs.
REQUIRED_RATE = 0.5


def zombies_left(record) -> int | None:
    try:
        return record.last_alive().zombies
    except MissingResult:
        return None


def served(record) -> int | None:
    return None if load_failure(record) else record.load().responses


def never_waits(record, zombies) -> bool:
    """Every child it served stayed a zombie: no reaping at all, not one reap per signal."""
    children = served(record) or CLIENTS
    return zombies is not None and zombies >= children


def run_told(index: int, record) -> str:
    zombies, failed = zombies_left(record), load_failure(record)
    told = f"run {index}: "
    told += f"the load client failed ({failed}), " if failed else f"{record.load().responses} responses, "
    if record.died:
        return told + f"the server exited with status {record.exit_code} ({record.error_line() or 'no traceback'})"
    return told + (f"{zombies} zombies after" if zombies is not None else "no sample saw the server alive")


def judge(obs) -> Judgment:
    runs = obs.runs("3f")
    counts = [zombies_left(r) for r in runs]
    known = [c for c in counts if c is not None]
    responses = [served(r) for r in runs]
    hit = sum(1 for c in known if c > 0)
    rate = hit / len(runs)
    died = [r for r in runs if r.died]
    reproduced = rate >= REQUIRED_RATE and not died
    numbers = {"clients": CLIENTS, "runs": len(runs), "runs_with_zombies": hit, "rate": round(rate, 3),
               "required_rate": REQUIRED_RATE, "zombies_per_run": counts, "responses_per_run": responses}
    mean = f"{sum(known) / len(known):.1f}" if known else "unknown"
    if not any(r.server_file for r in runs) and None not in counts and None not in responses:
        return Judgment.of(
            reproduced=reproduced,
            observed=(f"zombies remained after {hit} of {len(runs)} runs (rate {rate:.0%}, required "
                      f"{REQUIRED_RATE:.0%}); zombies left per run: {counts} (mean {mean} of {CLIENTS} children); "
                      f"responses per run: {responses}."),
            numbers=numbers)
    lessons = [DIES.key] if died else []
    all_left = [r for r, c in zip(runs, counts) if never_waits(r, c)]
    if all_left and len(all_left) == len(known):
        lessons.append(NEVER_WAITS.key)
        reproduced = False
    observed = (f"{who(runs[0])}, {len(runs)} runs of {CLIENTS} simultaneous clients: zombies remained after {hit} "
                f"of them (rate {rate:.0%}, required {REQUIRED_RATE:.0%}; mean {mean} zombies); "
                + "; ".join(run_told(i, r) for i, r in enumerate(runs, 1)) + ".")
    if NEVER_WAITS.key in lessons:
        observed += (" Every child it served stayed a zombie: it never waits for them. 3f's handler calls wait() "
                     "once per SIGCHLD, so only the children whose signals coalesced stay zombies.")
    elif runs[0].server_file and known and not hit and not died:
        observed += (" It reaps every finished child even when their SIGCHLDs arrive together, as 3g's "
                     "waitpid(-1, WNOHANG) loop does; 3f calls wait() once per signal, so coalesced signals "
                     "leave zombies.")
    return Judgment.of(reproduced, observed, numbers, lessons)


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
    lessons=(NEVER_WAITS, DIES),
    floods=True,
)
