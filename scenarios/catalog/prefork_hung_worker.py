"""Beyond the text, the prefork stage: one request hangs the app; the others are served, and the master
kills the stuck worker after --worker-timeout and starts another."""
import re

from scenarios.catalog.lessons import (DIES, NEVER_WAITS, NO_RESPAWN, NO_WORKER_TIMEOUT, OTHERS_STALL,
                                       QUERY_IN_PATH)
from scenarios.judging.phrases import load_failure, said, who
from scenarios.vocabulary.results import CurlsResult, MissingResult, SnapshotResult
from scenarios.vocabulary.spec import Curl, Pause, Scenario, ServerSpec, Snapshot, SteadyLoad, Trial
from scenarios.vocabulary.verdict import Judgment

WORKERS = 2  # the stage's default
WORKER_TIMEOUT = 3.0
CLIENTS = 8
RATE = 100.0  # requests per second over all clients: far below what one worker serves
SECONDS = 14.0
HANG_AFTER = 3.0
HANG_PATH = "/slow?seconds=25"  # far longer than the worker timeout: only the master can end it
AFTER_WAIT = 2.0  # how long after the hung request ended the workers are looked at
CURL_TIMED_OUT = 28
_TIMED_OUT = re.compile(r"Worker (\d+) gave no sign of life")


def _mean(values):
    return round(sum(values) / len(values), 1) if values else 0.0


def _live(snapshot):
    return sorted(child.pid for child in snapshot.children if not child.zombie)


def _recorded(read):
    try:
        return read(), ""
    except MissingResult as missing:
        return None, str(missing)


def judge(obs) -> Judgment:
    record = obs["prefork"]
    failed_load = load_failure(record, "steady")
    hung, no_hung = _recorded(lambda: record.result("hung", CurlsResult).first())
    before, no_before = _recorded(lambda: _live(record.result("before", SnapshotResult)))
    after, no_after = _recorded(lambda: _live(record.result("after", SnapshotResult)))
    missing = [why for why in (failed_load and f"the steady load failed ({failed_load})", no_hung, no_before,
                               no_after) if why]
    if missing:
        return unjudged(record, missing, hung)
    load = record.load("steady")
    if record.server_file:
        # A reader's server gets no --worker-timeout and logs in its own words: the worker that went is the
        # one the snapshots lost, and its own timeout counts if it ends the hang before curl gives up.
        killed = sorted(set(before) - set(after))
        workers = len(before)
    else:
        killed = [int(pid) for pid in _TIMED_OUT.findall(record.logs)]
        workers = WORKERS
    responses, failed = load.per_second("responses"), load.per_second("failed")
    hang_ends = HANG_AFTER + (hung.total_s or 0.0)
    # Whole seconds only, as prefork-respawn counts them: before the hang, while it lasts, after the kill.
    first, during, last = (responses[1:int(HANG_AFTER)], responses[int(HANG_AFTER) + 1:int(hang_ends)],
                           responses[int(hang_ends) + 1:-1])
    victim = killed[0] if len(killed) == 1 else None
    replaced = victim in before and victim not in after and len(after) == workers and len(set(after) - set(before)) == 1
    gave_up = hung.exit == CURL_TIMED_OUT  # curl's own --max-time: nothing ended the stuck worker
    no_answer = hung.status is None and hung.exit != 0 and not gave_up
    timed = (hung.total_s is not None and WORKER_TIMEOUT <= hung.total_s < WORKER_TIMEOUT + 3 if not record.server_file
             else no_answer)
    never_hung = hung.status is not None and (hung.total_s or 0) < 1.0
    others_served = bool(during) and min(during) > 0
    recovered = bool(last) and _mean(last) >= 0.8 * _mean(first)
    zombies = _zombies(record)
    ok = (replaced and no_answer and timed and others_served and recovered and zombies == 0
          and not record.died and load.exit == 0)
    timeout = (f"--worker-timeout {WORKER_TIMEOUT:g}" if not record.server_file
               else "its own timeout: it is given no --worker-timeout")
    observed = (f"GET {HANG_PATH} {HANG_AFTER:g}s into {SECONDS:g}s of {RATE:g} requests/s from {CLIENTS} kept "
                f"connections: it ended after {hung.total_s}s with {hung.status or 'no answer'} (curl exit "
                f"{hung.exit}); "
                + (f"the master logged {len(killed)} worker timeout(s) {killed} " if not record.server_file
                   else f"the worker(s) gone by the end: {killed} ")
                + f"({timeout}); workers {before} -> {after} "
                f"({'replaced' if replaced else 'NOT replaced'}); requests/s {_mean(first)} before, "
                f"{_mean(during)} while the worker hung (lowest second {min(during) if during else 'none'}), "
                f"{_mean(last)} after; {sum(failed)} failed request(s), {load.count('reconnects')} reconnect(s); "
                f"{'an uncounted number of' if zombies is None else zombies} zombies at the end.")
    numbers = {
        "victim": victim, "timed_out_workers": killed, "workers_before": before, "workers_after": after,
        "hung_status": hung.status, "hung_curl_exit": hung.exit, "hung_total_s": hung.total_s,
        "worker_timeout_s": WORKER_TIMEOUT, "rps_before": _mean(first), "rps_during": _mean(during),
        "rps_lowest_during": min(during) if during else 0, "rps_after": _mean(last),
        "failed_requests": sum(failed), "reconnects": load.count("reconnects"), "zombies_at_end": zombies,
        "requests_per_second": responses}
    if not record.server_file:
        return Judgment.of(reproduced=ok, observed=observed, numbers=numbers)
    lessons = []
    if never_hung:
        lessons.append(QUERY_IN_PATH.key)
        observed += (f" The request that should hold the app for 25 s was answered at once ({said(hung)}): the "
                     f"app never hung, so no stuck worker could be seen; the app reads seconds=25 from QUERY_STRING.")
    elif gave_up:
        lessons.append(NO_WORKER_TIMEOUT.key)
        observed += " Nothing ended the stuck worker before curl gave up on its own --max-time."
    elif not replaced:
        lessons.append(NO_RESPAWN.key)
    # With no hang there is no while-it-hung to read; with curl giving up, no after.
    if not never_hung and (not others_served or (not gave_up and not recovered)):
        lessons.append(OTHERS_STALL.key)
    if zombies:
        lessons.append(NEVER_WAITS.key)
    if record.died:
        lessons.append(DIES.key)
    if not ok and not lessons:
        lessons.append(NO_WORKER_TIMEOUT.key)
    return Judgment.of(ok, f"against {who(record)}, {observed}", numbers, lessons)


def _zombies(record) -> int | None:
    try:
        return record.last_alive().zombies
    except MissingResult:
        return None


def unjudged(record, missing: list, hung) -> Judgment:
    """What the trial showed when the load's summary, the hung request or a snapshot is missing."""
    told = [f"against {who(record)}: " + "; ".join(missing)]
    if hung is not None:
        told.append(f"the hung request ended after {hung.total_s}s with {said(hung)} (curl exit {hung.exit})")
    lessons = []
    if record.died:
        told.append(f"the server exited with status {record.exit_code} ({record.error_line() or 'no traceback'})")
        lessons.append(DIES.key)
    return Judgment.of(False, "; ".join(told) + ".", {"hung_status": hung.status if hung else None},
                       lessons if record.server_file else ())


SCENARIO = Scenario(
    name="prefork-hung-worker",
    section="Beyond the text: fork the workers once, as production servers do (lbaws serve prefork)",
    summary="prefork under steady load: one request hangs the app; the others are served, the stuck worker "
            "is killed after --worker-timeout and replaced",
    prediction=(f"While one worker is stuck in the app, the other keeps serving every client whose connection it "
                f"holds, and new connections go to it. After {WORKER_TIMEOUT:g}s without a heartbeat the master "
                "kills the stuck worker: the hung request ends with no answer, that worker's kept connections "
                "reconnect, a new worker takes its place, and the rate is back to where it was."),
    why=("A worker writes the time of each turn of its loop to a page it shares with the master; an app call "
         "that never returns stops the beat. The master's loop checks the beats every second, SIGKILLs a "
         "worker silent past --worker-timeout and, reaping it, forks a replacement, as gunicorn's arbiter does "
         "with its heartbeat files."),
    trials=(
        Trial("prefork", ServerSpec(stage="prefork", app="wsgiapp:app", image="wsgi",
                                    worker_timeout=WORKER_TIMEOUT),
              (SteadyLoad(clients=CLIENTS, seconds=SECONDS, rate=RATE),
               Pause(HANG_AFTER),
               Snapshot(key="before"),
               Curl(path=HANG_PATH, max_time=20.0, key="hung"),
               Pause(AFTER_WAIT, key="after-wait"),
               Snapshot(key="after")),
              title="one request hangs the app of a worker under steady load"),
    ),
    judge=judge,
    lessons=(QUERY_IN_PATH, NO_WORKER_TIMEOUT, NO_RESPAWN, OTHERS_STALL, NEVER_WAITS, DIES),
)
