"""Part 3's exercise, webserver3h.py: the concurrent WSGI server serving each framework.

Each framework's trial is judged on its own: whether its clients were served together (the time to the
slowest first byte), and what the server left behind (zombies, descriptors). Any status line counts;
the body is the app's, so a body that is not the app's page says the app did not answer through it.
"""
from lab.inventory import APPS
from scenarios.catalog.lessons import (APP_FAILS, DIES, KEEPS_COPY, NEVER_WAITS, NOT_APPS_BODY, ONE_AT_A_TIME,
                                       REAPS_ONE)
from scenarios.judging.phrases import count, said, who
from scenarios.vocabulary.results import MissingResult
from scenarios.vocabulary.spec import Curl, Scenario, ServerSpec, Settle, Snapshot, Trial, Until
from scenarios.vocabulary.verdict import Judgment

CLIENTS = 8
# Each request takes this long in the app: its /slow endpoint's own default, asked without a query
# string, so a server that leaves the query in PATH_INFO (as the text's webserver2 and 3h do) still
# reaches it, and a reader's own 3h is judged the same way. One at a time, the 8th answer would come
# after 8 x 1 s; served together, every client has it long before three slow requests could have ended.
SLOW = 1.0
TOGETHER = 3 * SLOW
DIDNT_PAUSE = 0.8 * SLOW  # a slowest answer sooner than this: the app's /slow never ran


def zombies_left(record) -> int | None:
    try:
        return record.last_alive().zombies
    except MissingResult:
        return None


def trial_reading(app, record, checking) -> tuple:
    """(the lessons this framework's trial shows, its sentence, its numbers)."""
    image, lessons = app.role, []
    name = f"{image}: {who(record)}" if checking else image
    numbers = {f"{image}_answered": 0, f"{image}_slowest_ttfb_s": None, f"{image}_peak_live_children":
               record.peak("live"), f"{image}_zombies_after": zombies_left(record),
               f"{image}_baseline_fds": record.baseline_fds, f"{image}_final_fds": record.final_fds}
    try:
        curls = record.curls()
    except MissingResult as missing:
        told = f"{name}: no curl result ({missing})"
        return [DIES.key] if record.died else [APP_FAILS.key], told, numbers
    got = [c for c in curls.curls if c.status is not None]  # any status line
    pages = sum(1 for c in got if c.body == app.greeting)
    slowest = curls.slowest_ttfb(unanswered=99.0)
    zombies = zombies_left(record)
    kept = (None if record.final_fds is None or record.baseline_fds is None
            else record.final_fds - record.baseline_fds)
    paused = slowest >= DIDNT_PAUSE
    numbers.update({f"{image}_answered": pages, f"{image}_responses": len(got), f"{image}_slowest_ttfb_s": slowest})
    if record.died:
        lessons.append(DIES.key)
    if len(got) < CLIENTS or pages < len(got):
        lessons.append(APP_FAILS.key if len(got) < CLIENTS or any(c.status >= 300 for c in got)
                       else NOT_APPS_BODY.key)
    if got and paused and slowest >= TOGETHER:
        lessons.append(ONE_AT_A_TIME.key)
    if zombies:
        lessons.append(REAPS_ONE.key if zombies < len(got) else NEVER_WAITS.key)
    if kept:
        lessons.append(KEEPS_COPY.key)
    if not checking:
        after = (f"fds {record.baseline_fds} -> {record.final_fds}" if record.final_fds is not None
                 else f"fds {record.baseline_fds} -> none: it exited with status {record.exit_code}" if record.died
                 else f"fds {record.baseline_fds} -> not counted")
        told = (f"{name}: {pages}/{CLIENTS} answered, slowest first byte {slowest:.2f}s, "
                f"peak {count(record.peak('live'), 'live child', 'live children')}, "
                f"{'no count of zombies' if zombies is None else f'{zombies} zombies'} after, {after}")
        return lessons, told, numbers
    first = next(iter(got), None)
    told = (f"{name}: {len(got)}/{CLIENTS} curls got a response"
            + (f" ({pages} of them the app's page; the first: {said(first)})" if first and pages < len(got)
               else " with the app's page" if got else "")
            + (f", the slowest first byte after {slowest:.2f}s" if got else ""))
    if got and not paused:
        told += (f": the app's /slow did not pause ({SLOW:g}s), so whether the clients were served together "
                 f"cannot be timed")
    elif got and slowest >= TOGETHER:
        told += f": clients waited for one another's requests (together, each has it after about {SLOW:g}s)"
    if record.died:
        told += f"; it exited with status {record.exit_code} ({record.error_line() or 'no traceback'})"
    else:
        told += (f"; {'no sample counted its zombies' if zombies is None else f'{zombies} zombies after'}, "
                 + (f"{record.final_fds} descriptors at the end (it started with {record.baseline_fds})"
                    if kept is not None else "its descriptors were not counted at the end"))
    return lessons, told, numbers


def judge(obs) -> Judgment:
    parts, numbers, lessons = [], {}, []
    checking = any(obs[app.role].server_file for app in APPS)
    for app in APPS:
        found, told, trial_numbers = trial_reading(app, obs[app.role], checking)
        parts.append(told)
        numbers.update(trial_numbers)
        lessons += [key for key in found if key not in lessons]
    numbers.update({"clients": CLIENTS, "per_request_s": SLOW, "one_at_a_time_would_take_s": CLIENTS * SLOW})
    observed = (f"{CLIENTS} simultaneous clients of /slow, {SLOW:g}s per request (one at a time "
                f"that is {CLIENTS * SLOW:g}s): " + "; ".join(parts) + ".")
    if checking and not lessons:
        observed += (" As 3h does: it forks a child per connection, closes the parent's copy and reaps with "
                     "waitpid(-1, WNOHANG) in a loop.")
    return Judgment.of(reproduced=not lessons, observed=observed, numbers=numbers, lessons=lessons)


SCENARIO = Scenario(
    name="concurrent-wsgi",
    section="Part 3: the exercise, webserver3h.py (part 2's WSGI server made concurrent)",
    summary="3h serves each framework to simultaneous slow clients: concurrently, no zombie, no leaked fd",
    prediction=("Updating the part 2 WSGI server with part 3's lessons makes it concurrent: every framework's "
                "clients are served at the same time, and no zombie or descriptor is left behind."),
    why=("3h forks a child per connection, closes the parent's copy of the client socket, and reaps with "
         "waitpid(-1, WNOHANG) in a loop. The WSGI application runs in the child, so a slow request only "
         "holds its own process."),
    trials=tuple(
        Trial(app.role, ServerSpec(stage="3h", app=app.spec, image=app.role),
              (Curl(count=CLIENTS, gap=0, max_time=CLIENTS * SLOW + 5, path="/slow"),
               Settle(until=Until.NO_LIVE_CHILDREN, quiet=1.0, timeout=20), Snapshot(key="after")))
        for app in APPS
    ),
    judge=judge,
    lessons=(ONE_AT_A_TIME, REAPS_ONE, NEVER_WAITS, KEEPS_COPY, DIES, APP_FAILS, NOT_APPS_BODY),
)
