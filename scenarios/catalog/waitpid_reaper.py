"""Part 3, webserver3g.py: waitpid(-1, WNOHANG) in a loop reaps every child, 128 or 1000 at once.

Each trial is judged on its own: a load client that failed (killed at 1000 clients, say) takes away the
response count of its trial only; the zombies and descriptors the server was left with still decide.
"""
from scenarios.catalog.fd_exhaustion import RETRY
from scenarios.catalog.lessons import DIES, KEEPS_COPY, NEVER_WAITS, REAPS_ONE
from scenarios.judging.phrases import count, load_failure, who
from scenarios.vocabulary.results import MissingResult
from scenarios.vocabulary.spec import Limits, Load, Scenario, ServerSpec, Settle, Snapshot, Trial, Until
from scenarios.vocabulary.verdict import Judgment

LIMITS = Limits(nofile=1024, nproc=2048, memory="2g")
LOADS = {"3g-128": 128, "3g-1000": 1000}
# Seconds each load may take. 3g answers 1000 clients in a few seconds on an idle machine; beside other
# floods and CPU hogs a forking Python server may get a quarter of a core, and needs minutes.
DEADLINES = {"3g-128": 60, "3g-1000": 150}
# Each client waits for its connection up to the load's deadline, as client3.py does (a reader's file may
# listen with a backlog of 5), and READ_TIMEOUT for its response: a queued connection waits for accept()
# and a fork first, which beside CPU hogs took longer than the client's default of 10 s for a fifth of
# 1000 clients. Not the deadline: a 3d in 3g's place never closes the connection, and each client would
# wait it out.
READ_TIMEOUT = 30


def zombies_left(record) -> int | None:
    try:
        return record.last_alive().zombies
    except MissingResult:
        return None


def trial_faults(record, clients: int, first: bool = True) -> tuple:
    """(the lessons this trial shows, its sentence, its numbers)."""
    zombies = zombies_left(record)
    failed = load_failure(record)
    responses = None if failed else record.load().responses
    kept = None if record.final_fds is None or record.baseline_fds is None else record.final_fds - record.baseline_fds
    faults = []
    if record.died:
        faults.append(DIES.key)
    if zombies:
        # Some reaped, some left: a handler that waits once per signal; none reaped: no waiting at all.
        faults.append(REAPS_ONE.key if zombies < clients else NEVER_WAITS.key)
    if kept:
        faults.append(KEEPS_COPY.key)
    if not faults and responses is not None and responses != clients:
        faults.append(DIES.key if record.died else "unanswered")
    told = f"{who(record)}, {clients} clients: " if first else f"{clients} clients: "
    told += (f"the load client failed ({failed}); " if failed else f"{responses} responses, ")
    if record.died:
        told += f"the server exited with status {record.exit_code} ({record.error_line() or 'no traceback'})"
    else:
        told += (f"{zombies} zombies after, peak {count(record.peak('live'), 'live child', 'live children')}, "
                 f"{record.final_fds} descriptors at the end (it started with {record.baseline_fds})")
    numbers = {f"{clients}_responses": responses, f"{clients}_load_client": failed or "ok",
               f"{clients}_zombies_after": zombies, f"{clients}_baseline_fds": record.baseline_fds,
               f"{clients}_final_fds": record.final_fds, f"{clients}_peak_live_children": record.peak("live"),
               f"{clients}_peak_zombies": record.peak("zombies")}
    return faults, told, numbers


def judge(obs) -> Judgment:
    parts, numbers, lessons, judged = [], {}, [], 0
    yours = False
    for key, clients in LOADS.items():
        record = obs[key]
        yours = yours or bool(record.server_file)
        if not record.started:
            parts.append(f"{who(record)}, {clients} clients: the server never listened ({record.error})")
            continue
        faults, told, trial_numbers = trial_faults(record, clients, first=not parts)
        judged += 1
        parts.append(told)
        numbers.update(trial_numbers)
        lessons += [fault for fault in faults if fault not in lessons]
    if not judged:
        raise MissingResult("no trial's server started: " + "; ".join(parts))
    held = not lessons
    observed = "; ".join(parts) + "."
    if yours:
        observed += (" 3g, which reaps in a waitpid(-1, WNOHANG) loop and closes the parent's copy, leaves 0 "
                     "zombies and returns to the descriptors it started with.")
    named = [lesson for lesson in lessons if lesson != "unanswered"]
    if lessons == ["unanswered"] and not yours:
        # Every child reaped and every descriptor back, only the load unfinished: the machine's doing.
        bounds = " or ".join(f"{DEADLINES[key]} s for {clients} clients" for key, clients in LOADS.items())
        return Judgment.busy(f"The load ended before every client was answered (each may wait {READ_TIMEOUT} s "
                             f"for its response, and the load {bounds}), while 3g left no zombie and no "
                             f"descriptor.", observed, numbers)
    return Judgment.of(reproduced=held, observed=observed, numbers=numbers, lessons=named)


SCENARIO = Scenario(
    name="waitpid-reaper",
    section="Part 3: webserver3g.py with `client3.py --max-clients 128`",
    summary="3g reaps in a waitpid(WNOHANG) loop: no zombie after 128 or 1000 clients, fds back to start",
    prediction="No more zombies after 128 simultaneous clients: life is good without zombies.",
    why=("One SIGCHLD may stand for many exited children, so 3g's handler calls waitpid(-1, WNOHANG) until no "
         "finished child is left instead of reaping just one. Because the parent also closes its copy of each "
         "client socket, its descriptor count returns to where it started."),
    trials=tuple(
        Trial(key, ServerSpec(stage="3g", limits=LIMITS),
              (Load(clients=clients, read=True, deadline=DEADLINES[key], connect_timeout=RETRY,
                    connect_patience=DEADLINES[key], read_timeout=READ_TIMEOUT),
               Settle(until=Until.NO_LIVE_CHILDREN, quiet=1.0, timeout=30),
               Snapshot(key="after")))
        for key, clients in LOADS.items()
    ),
    judge=judge,
    lessons=(REAPS_ONE, NEVER_WAITS, KEEPS_COPY, DIES),
    floods=True,
)
