"""Part 3: a forking server answers the next client while a child still waits for the first one;
3b, which serves one client at a time, makes it wait.

A client connects and says nothing for SILENT seconds; curl asks right after it. Whoever waits for that
silent client decides: 3g's child does, and its parent goes back to accept() and forks for curl; 3b
itself does (and so does a parent that waits for each child right after fork()), so curl waits too.
Any response counts; only the time to curl's first byte is read.
"""
from scenarios.catalog.lessons import ONE_AT_A_TIME
from scenarios.judging.phrases import said, who, yours_first
from scenarios.vocabulary.spec import Curl, Scenario, ServerSpec, Trial
from scenarios.vocabulary.verdict import Judgment

SILENT = 4.0  # seconds the first client holds its connection open without a request
AT_ONCE = 1.0  # a curl answered within this while the silent client still holds on was served beside it
ACTIONS = (Curl(count=1, max_time=SILENT + 5, silent_first=SILENT),)
DOES = {"3b": "serves one client at a time", "3g": "forks a child per client"}


def waited(curl) -> bool:
    """Answered only once the silent client was gone (curl starts a moment after that client connects)."""
    return curl.ttfb_s is not None and curl.ttfb_s >= SILENT / 2


def sentence(record, beside) -> str:
    curl = record.curl()
    name = who(record, DOES.get(record.stage, ""), beside)
    if curl.status is None:
        return f"against {name} curl got no response (exit {curl.exit} after {curl.total_s or 0:.2f}s)"
    when = (f"only after {curl.ttfb_s:.2f}s, when the silent client gave up: it waited for that client first"
            if waited(curl) else f"after {curl.ttfb_s or 0:.2f}s, while the silent client still held on")
    return f"against {name} curl got {said(curl)} {when}"


def judge(obs) -> Judgment:
    iterative, forking = obs["3b"], obs["3g"]
    first, fixed = iterative.curl(), forking.curl()
    at_once = fixed.status is not None and (fixed.ttfb_s or 99) < AT_ONCE
    reproduced = waited(first) and at_once
    records = yours_first(iterative, forking)
    observed = "; ".join(sentence(record, records) for record in records) + "."
    if forking.server_file and waited(fixed):
        observed += " Your server served one client at a time, as the text's 3b does."
    yours = at_once if forking.server_file else None
    return Judgment.weighed(
        yours, waited(first) if forking.server_file else reproduced, lab_trial="3b", observed=observed,
        numbers={"silent_s": SILENT, "3b_ttfb_s": first.ttfb_s, "3b_status": first.status,
                 "3g_ttfb_s": fixed.ttfb_s, "3g_status": fixed.status},
        lessons=[ONE_AT_A_TIME.key] if waited(fixed) else [])


SCENARIO = Scenario(
    name="served-at-once",
    section="Part 3: webserver3c.py on, each client is served by a different and completely independent process",
    summary="a client that says nothing holds up 3b's next client, not 3g's: 3g's child waits, its parent forks on",
    prediction=("With a concurrent server a client no longer waits for the one before it: each client is served "
                "by a different and completely independent process, and the parent goes back to accept()."),
    why=("An iterative server handles one client at a time: while it waits for a request it is not calling "
         "accept(), so the next connection waits in the listen queue. 3g's parent forks and returns to accept() "
         "at once; the child alone waits for its client, and the parent waits for children only when SIGCHLD says "
         "one has exited."),
    trials=(
        Trial("3b", ServerSpec(stage="3b", sleep=0.0), ACTIONS, title="3b, iterative, without its sleep"),
        Trial("3g", ServerSpec(stage="3g"), ACTIONS),
    ),
    judge=judge,
    lessons=(ONE_AT_A_TIME,),
)
