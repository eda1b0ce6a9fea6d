"""Beyond the text, the prefork stage: kill -9 a worker under steady keep-alive load; the master replaces it."""
from scenarios.catalog.lessons import DIES, NEVER_WAITS, NO_RESPAWN, NO_WORKERS, OTHERS_STALL
from scenarios.judging.phrases import load_failure, who
from scenarios.vocabulary.results import KillChildResult, MissingResult
from scenarios.vocabulary.spec import KillChild, Pause, Scenario, ServerSpec, Snapshot, SteadyLoad, Trial
from scenarios.vocabulary.verdict import Judgment

WORKERS = 2  # the stage's default
CLIENTS = 16
RATE = 200.0  # requests per second over all clients: steady, and far below what two workers can serve
SECONDS = 12.0
KILL_AFTER = 4.0
KILL_WAIT = 2.0  # how long after the kill the master's work is looked at


def _mean(values):
    return round(sum(values) / len(values), 1) if values else 0.0


def judge(obs) -> Judgment:
    record = obs["prefork"]
    failed_load = load_failure(record, "steady")
    try:
        kill = record.result("kill", KillChildResult)
    except MissingResult as missing:
        kill = None
        no_kill = str(missing)
    if failed_load or kill is None or kill.victim is None:
        return unjudged(record, kill, failed_load or "", "" if kill else no_kill)
    load = record.load("steady")
    responses, failed = load.per_second("responses"), load.per_second("failed")
    reconnects = load.count("reconnects")
    failures = sum(failed)
    killed_at = int(kill.t_s - load.started_s)  # the load's second in which the worker died
    # Whole seconds only: the first (clients starting), the kill's own, and the last (clients stopping) are partial.
    before, after = responses[1:killed_at], responses[killed_at + 1:-1]
    # As many workers after as before: the lab's 2, or however many a reader's master keeps.
    workers = len(kill.live_before) if record.server_file else WORKERS
    replaced = (kill.victim is not None and kill.victim not in kill.live_after
                and len(kill.live_after) == workers and len(kill.replaced_by) == 1)
    zombies = zombies_at_end(record)
    steady = bool(after) and _mean(after) >= 0.8 * _mean(before)
    # A server that closes each connection after its response makes every client reconnect all along:
    # which ones the dead worker held cannot be told, only whether requests failed.
    per_request = load.responses > 0 and reconnects >= load.responses / 2
    # Each connection the kill ended is replaced by a new one, whether it was found closed while idle (a
    # reconnect) or had its request in flight (that request failed, as more do on a busy machine); no
    # client loses more than the one request it had in flight.
    renewed = max(0, load.connected - CLIENTS)
    felt = (renewed >= 1 or bool(record.server_file)) and failures <= min(renewed, CLIENTS)
    ok = (replaced and not kill.zombies_after and zombies == 0 and not record.died and load.exit == 0
          and felt and steady)
    numbers = {
        "victim": kill.victim, "workers_before": list(kill.live_before), "workers_after": list(kill.live_after),
        "replaced_by": list(kill.replaced_by), "zombies_after_kill": len(kill.zombies_after),
        "new_connections": renewed,
        "zombies_at_end": zombies, "failed_requests": failures, "reconnects": reconnects,
        "responses": load.responses, "requests_per_second": responses,
        "rps_before": _mean(before), "rps_after": _mean(after), "kill_second": killed_at,
        "clients": CLIENTS, "rate": RATE}
    held = ("each client reconnecting after every response: it closes the connection each time, so which "
            "clients the dead worker held cannot be told" if record.server_file and per_request
            else "the connections the dead worker held")
    descriptors = kill.fds_by_child.get(kill.victim)
    observed = (f"kill -9 {kill.victim} (the worker with "
                f"{'the most' if descriptors is None else descriptors} descriptors) "
                f"{kill.t_s - load.started_s:.1f}s into {SECONDS:g}s of {RATE:g} requests/s from {CLIENTS} "
                f"kept connections: workers {list(kill.live_before)} -> {list(kill.live_after)} "
                f"({'replaced by ' + str(list(kill.replaced_by)) if replaced else 'NOT replaced'}), "
                f"{len(kill.zombies_after)} zombies {KILL_WAIT:g}s after, "
                f"{'an uncounted number' if zombies is None else zombies} at the end; "
                f"the clients saw {failures} failed request(s) and opened {renewed} new connection(s), "
                f"{reconnects} of them for one found closed ({held}); requests/s {_mean(before)} before, "
                f"{_mean(after)} after; {load.responses} responses in all.")
    if not record.server_file:
        return Judgment.of(reproduced=ok, observed=observed, numbers=numbers)
    lessons = []
    if record.died:
        lessons.append(DIES.key)
    if not replaced:
        lessons.append(NO_RESPAWN.key)
    if kill.zombies_after or zombies:
        lessons.append(NEVER_WAITS.key)
    if not felt or not steady:
        lessons.append(OTHERS_STALL.key)
    if not ok and not lessons:
        lessons.append(OTHERS_STALL.key)
    return Judgment.of(ok, f"against {who(record)}, {observed}", numbers, lessons)


def zombies_at_end(record) -> int | None:
    try:
        return record.last_alive().zombies
    except MissingResult:
        return None


def unjudged(record, kill, failed_load: str, no_kill: str) -> Judgment:
    """What a trial showed when the load's summary or the kill is missing, or there was no worker to kill."""
    name = who(record)
    told, lessons = [], []
    if kill is not None and kill.victim is None:
        told.append(f"{name} had no child process to kill (live children: {list(kill.live_before) or 'none'}): "
                    f"it forks no worker up front")
        lessons.append(NO_WORKERS.key)
    elif kill is not None:
        told.append(f"against {name}, kill -9 {kill.victim}: workers {list(kill.live_before)} -> "
                    f"{list(kill.live_after)}, {len(kill.zombies_after)} zombies {KILL_WAIT:g}s after")
    else:
        told.append(f"against {name} no worker was killed ({no_kill})")
    if failed_load:
        told.append(f"the steady load failed ({failed_load})")
    if record.died:
        told.append(f"the server exited with status {record.exit_code} ({record.error_line() or 'no traceback'})")
        lessons.append(DIES.key)
    return Judgment.of(False, "; ".join(told) + ".", {"victim": kill.victim if kill else None,
                                                      "load_client": failed_load or "ok"},
                       lessons if record.server_file else ())


SCENARIO = Scenario(
    name="prefork-respawn",
    section="Beyond the text: fork the workers once, as production servers do (lbaws serve prefork)",
    summary="prefork under steady keep-alive load: kill -9 a worker; replaced, no zombie, only its connections feel it",
    prediction=("The master notices the dead worker at once, reaps it and forks a replacement: no zombie remains "
                "and the number of workers is back to two. The clients lose at most the requests that worker had "
                "in flight; its kept connections close, so those clients reconnect, and the other worker "
                "carries the load meanwhile at the same rate."),
    why=("The master's SIGCHLD handler only records; its loop then reaps with 3g's waitpid(-1, WNOHANG) loop "
         "and replaces each worker that died. The listening socket belongs to the master and every worker, "
         "so connections keep being accepted while one worker is gone; the kernel closes the dead worker's "
         "client sockets, which is what its clients see."),
    trials=(
        Trial("prefork", ServerSpec(stage="prefork", app="wsgiapp:app", image="wsgi"),
              (SteadyLoad(clients=CLIENTS, seconds=SECONDS, rate=RATE),
               Pause(KILL_AFTER),
               KillChild(signal=9, wait=KILL_WAIT, key="kill"),
               Snapshot(key="after")),
              title="kill -9 the busiest worker under steady load"),
    ),
    judge=judge,
    lessons=(NO_WORKERS, NO_RESPAWN, NEVER_WAITS, OTHERS_STALL, DIES),
)
