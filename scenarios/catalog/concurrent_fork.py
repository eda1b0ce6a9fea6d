"""Part 3, webserver3c.py: fork per client, every client answered at once; 3c never reaps.

A reader's 3c is judged on what the lesson is about, clients served together by a child each, whatever
it answers; whether it then waits for its children is said, not judged (that is the text's next lesson).
"""
from scenarios.catalog.lessons import DIES, NO_FORK, ONE_AT_A_TIME
from scenarios.judging.phrases import count, said, who
from scenarios.vocabulary.results import MissingResult
from scenarios.vocabulary.spec import Curl, Scaled, Scenario, ServerSpec, Settle, Snapshot, Trial, Until
from scenarios.vocabulary.verdict import Judgment

CLIENTS = 10
SLEEP = Scaled(60)
# Each curl's own bound, half the children's sleep: a client queued behind another child's sleep gets no
# answer by then, while one served at once does, however long a busy machine (or a SYN the backlog of 5
# dropped, retried after a second) made it wait.
MAX_TIME = Scaled(30, floor=0.5)


def yours(record, curls, answered: list, slowest: float, children: int, zombies_left, at_once: bool) -> Judgment:
    """A reader's 3c: every client answered at once, each by a child of its own."""
    name = who(record)
    first = said(answered[0]) if answered else "no response"
    told = (f"{len(answered)}/{CLIENTS} curls got a response from {name} (the first: {first})"
            + (f", the slowest after {slowest:.2f}s" if len(answered) == CLIENTS else
               f" within curl's --max-time of half the sleep ({record.sleep / 2:g}s)")
            + f"; the watch saw {count(children, 'live child', 'live children')} at once whose parent is "
              f"the server (PID {record.server_pid})")
    lessons = []
    if not at_once:
        told += (f": it served the clients one after another; 3c, which forks a child per client and goes straight "
                 f"back to accept(), answers all {CLIENTS} at once while each child sleeps {record.sleep:g}s")
        lessons.append(ONE_AT_A_TIME.key)
    elif children < CLIENTS:
        told += (f": it served them together but not with a child each; 3c forks one per client, {CLIENTS} "
                 f"children here")
        lessons.append(NO_FORK.key)
    else:
        told += ": a child each, as 3c forks them"
    if record.died:
        told += f"; it then exited with status {record.exit_code} ({record.error_line() or 'no traceback'})"
        lessons.append(DIES.key)
    elif zombies_left is None:
        told += "; no sample counted its zombies after the sleeps"
    elif zombies_left:
        told += f"; after the sleeps {zombies_left} zombies remained: it never waits for them, as 3c does not"
    else:
        told += "; after the sleeps no zombie remained: it waits for its children, which 3c leaves to the text's 3e"
    numbers = {"clients": CLIENTS, "answered": len(answered), "slowest_ttfb_s": slowest,
               "children_seen": children, "zombies_left": zombies_left, "sleep_s": record.sleep}
    return Judgment.of(not lessons, told + ".", numbers, lessons)


def zombies_at_end(record) -> int | None:
    try:
        return record.last_alive().zombies
    except MissingResult:
        return None


def children_seen(record) -> int:
    """The most live children at once: the snapshot after the curls, or a sample of the watch before it
    (on a busy machine the curls' own exec may end after the children have)."""
    return max([len(record.snapshot("children").live)] + [s.live for s in record.samples if s.alive])


def judge(obs) -> Judgment:
    record = obs["3c"]
    curls = record.curls()
    answered = [c for c in curls.curls if c.status is not None]  # any status line and body
    slowest = curls.slowest_ttfb(unanswered=99)
    children = children_seen(record)
    zombies_left = zombies_at_end(record) if record.server_file else record.last_alive().zombies
    at_once = len(answered) == CLIENTS and slowest < record.sleep / 2
    one_child_each = children == CLIENTS
    if record.server_file:
        return yours(record, curls, answered, slowest, children, zombies_left, at_once)
    return Judgment.of(
        reproduced=at_once and one_child_each and not record.died,
        observed=(f"{len(answered)}/{CLIENTS} curls got a response from {who(record)}, the slowest after {slowest:.2f}s "
                  f"while each child sleeps {record.sleep:g}s; the watch saw "
                  f"{count(children, 'live child', 'live children')} at once whose parent is the server "
                  f"(PID {record.server_pid}); after the sleeps, "
                  f"{zombies_left} zombies remain because 3c never waits for its children."),
        numbers={"clients": CLIENTS, "answered": len(answered), "slowest_ttfb_s": slowest,
                 "children_seen": children, "zombies_left": zombies_left, "sleep_s": record.sleep},
    )


SCENARIO = Scenario(
    name="concurrent-fork",
    section="Part 3: webserver3c.py, as many curls as you want",
    summary="3c forks a child per client: all are answered at once; the children end as zombies",
    prediction=("Every curl prints Hello, World! immediately and then hangs for the child's 60 second sleep; "
                "each client is served by a different and completely independent process."),
    why=("After accept() the parent calls fork() and goes straight back to accept(), while the child handles "
         "the request and sleeps, so one sleeping child never delays another client. The parent never calls "
         "wait(), so each finished child stays a zombie: the text's next lesson."),
    trials=(
        Trial("3c", ServerSpec(stage="3c", sleep=SLEEP),
              (Curl(count=CLIENTS, gap=0, max_time=MAX_TIME, key="curl"),
               Snapshot(key="children"),
               Settle(until=Until.NO_LIVE_CHILDREN, timeout=Scaled(60, plus=15)))),
    ),
    judge=judge,
    lessons=(ONE_AT_A_TIME, NO_FORK, DIES),
)
