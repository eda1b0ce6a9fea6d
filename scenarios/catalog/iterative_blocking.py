"""Part 3, webserver3b.py: an iterative server that sleeps makes the next client wait.

A reader's 3b sleeps as it likes (in a check the text's 60 s, unscaled): it behaves as 3b when the
second client clearly waited for the first one to be handled, whatever the two responses say.
"""
from scenarios.catalog.lessons import DIES, NO_ANSWER, NOT_KEPT_WAITING, SLEEPS_FIRST
from scenarios.judging.phrases import said, who
from scenarios.vocabulary.results import MissingResult
from scenarios.vocabulary.spec import Curl, Scaled, Scenario, ServerSpec, Trial
from scenarios.vocabulary.verdict import Judgment

SLEEP = Scaled(60)  # the text's time.sleep(60); shortened by the sleep-scale knob
GAP = 0.5  # the second curl starts this long after the first
# A shell's `sleep 0.5` between the two curls overshoots on a busy machine, shortening the delay read by as
# much; a second client that is not kept waiting gets its answer in milliseconds, so a second of slack
# keeps the two verdicts apart on any machine.
SLACK = 1.0


def judge(obs) -> Judgment:
    record = obs["3b"]
    curls = record.curls().curls
    if len(curls) != 2:
        raise MissingResult(f"3b: {len(curls)} of the 2 curls reported back")
    first, second = curls
    sleep = record.sleep
    # Any response counts, whatever its status line and body: the lesson is when the second one came.
    both_answered = first.status is not None and second.status is not None
    name = who(record)
    if not both_answered:
        lessons = [DIES.key] if record.died else [NO_ANSWER.key]
        ended = (f"; the server exited with status {record.exit_code} ({record.error_line() or 'no traceback'})"
                 if record.died else "")
        return Judgment.of(False, f"{name} answered {said(first)} and {said(second)} (curl exits {first.exit}, "
                              f"{second.exit}){ended}: a response to both curls is needed to time them.",
                       {"both_answered": False, "sleep_s": sleep}, lessons if record.server_file else ())
    # Time between the two responses: the second curl started GAP later than the first.
    delay = round(second.ttfb_s + GAP - first.ttfb_s, 3)
    waited = delay >= sleep - SLACK
    # Answered before its sleep, not after it: half the sleep tells the two apart, however busy the machine.
    prompt = first.ttfb_s < sleep / 2
    numbers = {"sleep_s": sleep, "first_ttfb_s": first.ttfb_s, "second_ttfb_s": second.ttfb_s,
               "delay_between_responses_s": delay, "both_answered": both_answered}
    observed = (f"against {name} the first curl got {said(first)} after {first.ttfb_s:.2f}s; the second, started "
                f"{GAP}s later, got its response {delay:.2f}s after the first one (server sleep {sleep:g}s)")
    if not record.server_file:
        return Judgment.of(
            reproduced=both_answered and waited and prompt,
            observed=observed + (": it waited in the listen queue for the whole sleep." if waited
                                 else ": it did not wait for the sleep."),
            numbers=numbers)
    # A reader's own sleep may be shorter than the text's: a second client that waited whole seconds
    # beyond its GAP was kept in the listen queue all the same.
    kept = waited or delay >= 1.0 + GAP
    lessons = ([] if prompt else [SLEEPS_FIRST.key]) + ([] if kept else [NOT_KEPT_WAITING.key])
    if kept:
        observed += (": it waited in the listen queue for the whole sleep" if waited
                     else f": it waited in the listen queue while the first was handled, a shorter wait than 3b's "
                          f"{sleep:g}s sleep")
    else:
        observed += (f": it did not wait for the first one; 3b, which handles one client at a time and sleeps "
                     f"{sleep:g}s after each response, makes it wait the whole sleep")
    if not prompt:
        observed += "; the first waited too, where 3b answers it at once and sleeps afterwards"
    return Judgment.of(not lessons, observed + ".", numbers, lessons)


SCENARIO = Scenario(
    name="iterative-blocking",
    section="Part 3: webserver3b.py, two curls within 60 seconds",
    summary="3b sleeps after each response, so the second client waits for the first one's sleep",
    prediction=("The first curl prints Hello, World! at once; the second one hangs and gets its answer only "
                "after the server's 60 second sleep (handled iteratively, one request at a time)."),
    why=("An iterative server handles one client request at a time: while it sleeps in handle_request it is "
         "not calling accept(). The second connection is completed by the kernel and waits in the listen "
         "queue (the BACKLOG) until the server loops back to accept it."),
    trials=(
        Trial("3b", ServerSpec(stage="3b", sleep=SLEEP),
              (Curl(count=2, gap=GAP, max_time=Scaled(60, plus=4)),)),
    ),
    judge=judge,
    lessons=(NOT_KEPT_WAITING, SLEEPS_FIRST, NO_ANSWER, DIES),
)
