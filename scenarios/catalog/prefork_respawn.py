"""Beyond the text, the prefork stage: kill -9 a worker under steady keep-alive load; the master replaces it."""
from scenarios.results import KillChildResult
from scenarios.spec import KillChild, Pause, Scenario, ServerSpec, Snapshot, SteadyLoad, Trial
from scenarios.verdict import Judgment

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
    load = record.load("steady")
    kill = record.result("kill", KillChildResult)
    responses, failed = load.per_second("responses"), load.per_second("failed")
    reconnects = load.count("reconnects")
    failures = sum(failed)
    killed_at = int(kill.t_s - load.started_s)  # the load's second in which the worker died
    # Whole seconds only: the first (clients starting), the kill's own, and the last (clients stopping) are partial.
    before, after = responses[1:killed_at], responses[killed_at + 1:-1]
    replaced = (kill.victim is not None and kill.victim not in kill.live_after
                and len(kill.live_after) == WORKERS and len(kill.replaced_by) == 1)
    zombies = record.last_alive().zombies
    steady = bool(after) and _mean(after) >= 0.8 * _mean(before)
    ok = (replaced and not kill.zombies_after and zombies == 0 and not record.died and load.exit == 0
          and reconnects >= 1 and failures <= reconnects and steady)
    observed = (f"kill -9 {kill.victim} (the worker with {kill.fds_by_child.get(kill.victim)} descriptors) "
                f"{kill.t_s - load.started_s:.1f}s into {SECONDS:g}s of {RATE:g} requests/s from {CLIENTS} "
                f"kept connections: workers {list(kill.live_before)} -> {list(kill.live_after)} "
                f"({'replaced by ' + str(list(kill.replaced_by)) if replaced else 'NOT replaced'}), "
                f"{len(kill.zombies_after)} zombies {KILL_WAIT:g}s after, {zombies} at the end; "
                f"the clients saw {failures} failed request(s) and reconnected {reconnects} time(s) "
                f"(the connections the dead worker held); requests/s {_mean(before)} before, "
                f"{_mean(after)} after; {load.responses} responses in all.")
    return Judgment.of(reproduced=ok, observed=observed, numbers={
        "victim": kill.victim, "workers_before": list(kill.live_before), "workers_after": list(kill.live_after),
        "replaced_by": list(kill.replaced_by), "zombies_after_kill": len(kill.zombies_after),
        "zombies_at_end": zombies, "failed_requests": failures, "reconnects": reconnects,
        "responses": load.responses, "requests_per_second": responses,
        "rps_before": _mean(before), "rps_after": _mean(after), "kill_second": killed_at,
        "clients": CLIENTS, "rate": RATE})


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
)
