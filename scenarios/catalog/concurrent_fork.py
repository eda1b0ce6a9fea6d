"""Part 3, webserver3c.py: fork per client, every client answered at once; 3c never reaps."""
from scenarios.phrases import who
from scenarios.spec import Curl, Scaled, Scenario, ServerSpec, Settle, Snapshot, Trial, Until
from scenarios.verdict import Judgment

CLIENTS = 10
SLEEP = Scaled(60)


def judge(obs) -> Judgment:
    record = obs["3c"]
    curls = record.curls()
    answered = [c for c in curls.curls if c.status is not None]  # any status line and body
    slowest = curls.slowest_ttfb(unanswered=99)
    children = record.snapshot("children").live
    zombies_left = record.last_alive().zombies
    at_once = len(answered) == CLIENTS and slowest < min(2.0, record.sleep / 2)
    one_child_each = len(children) == CLIENTS
    return Judgment.of(
        reproduced=at_once and one_child_each and not record.died,
        observed=(f"{len(answered)}/{CLIENTS} curls got a response from {who(record)}, the slowest after {slowest:.2f}s "
                  f"while each child sleeps {record.sleep:g}s; ps showed {len(children)} live children "
                  f"whose parent is the server (PID {record.server_pid}); after the sleeps, "
                  f"{zombies_left} zombies remain because 3c never waits for its children."),
        numbers={"clients": CLIENTS, "answered": len(answered), "slowest_ttfb_s": slowest,
                 "children_seen": len(children), "zombies_left": zombies_left, "sleep_s": record.sleep},
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
              (Curl(count=CLIENTS, gap=0, max_time=2, key="curl"),
               Snapshot(key="children"),
               Settle(until=Until.NO_LIVE_CHILDREN, timeout=Scaled(60, plus=15)))),
    ),
    judge=judge,
)
