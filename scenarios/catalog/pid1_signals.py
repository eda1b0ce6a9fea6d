"""The text's servers have no SIGTERM handler: as a container's PID 1, `docker stop` has to kill them.

A reader's 3g runs in the two trials without the lab's handler (as PID 1, and under docker-init); the
two with it stay the lab's. Any answer to curl will do: the lesson is how docker stop ends the server.
"""
from scenarios.catalog.lessons import HANDLES_SIGTERM, IGNORES_SIGTERM, NO_ANSWER
from scenarios.judging.phrases import said, who
from scenarios.vocabulary.spec import Curl, Needs, Scenario, ServerSpec, Sigterm, Stop, Trial
from scenarios.vocabulary.verdict import Judgment

TIMEOUT = 3  # docker stop's grace period, short so the scenario stays quick
STOP = Stop(timeout=TIMEOUT)
ACTIONS = (Curl(max_time=5), STOP)
# trial -> (whether docker stop must wait out its grace period and SIGKILL, the exit codes allowed)
EXPECTED = {"no-handler": (True, {137}), "no-handler-init": (False, {143}), "handler": (False, {0}),
            "handler-sh": (True, {137})}
# A server the engine had to kill exits 137 after the grace period; one that SIGTERM or its handler ended exits
# 143 or 0, however long a busy host took to get there: the exit code tells them apart, not the stop's time.


# How each trial's server is named beside a reader's: by what it does and what is PID 1.
DOES = {"no-handler": "has no SIGTERM handler, as PID 1", "no-handler-init": "has none, under docker-init",
        "handler": "handles SIGTERM, as PID 1", "handler-sh": "handles SIGTERM, behind /bin/sh -c as PID 1"}
WHERE = {"no-handler": "as PID 1", "no-handler-init": "under docker-init"}


def waited(stop) -> bool:
    return stop.seconds >= TIMEOUT - 0.1


def as_expected(key: str, stop) -> bool:
    """The stop the trial predicts: its exit code, and for a kill, the whole grace period waited first."""
    killed, codes = EXPECTED[key]
    return stop.exit_code in codes and (waited(stop) or not killed)


def holds(key: str, record) -> bool:
    answered = record.curl().status is not None if record.server_file else record.curl().status == 200
    return answered and as_expected(key, record.stop())


def stopped(stop) -> str:
    return (f"docker stop -t {TIMEOUT} took {stop.seconds:.2f}s, exit {stop.exit_code}"
            f"{' (SIGKILL)' if stop.killed else ''}")


def yours(key: str, record) -> tuple:
    """(the lessons, the sentence) for a reader's 3g in one of the trials without the lab's handler."""
    stop, curl = record.stop(), record.curl()
    told = f"{key}: {who(record)}, {WHERE[key]}, " + (
        f"answered curl with {said(curl)}" if curl.status is not None else f"gave curl no response (exit {curl.exit})")
    told += f"; {stopped(stop)}"
    lessons = [] if curl.status is not None else [NO_ANSWER.key]
    if as_expected(key, stop):
        told += (": SIGTERM did nothing to it, as to the text's 3g, and the engine had to kill it"
                 if key == "no-handler" else ": SIGTERM's default action ended it, as it ends the text's 3g")
    elif key == "no-handler-init" and waited(stop):
        told += ": even SIGTERM passed on by docker-init did not end it, where it ends the text's 3g at once (143)"
        lessons.append(IGNORES_SIGTERM.key)
    else:
        told += (": it stopped of its own accord, so it handles SIGTERM; as PID 1 the text's 3g, which has no "
                 "handler, is killed after the grace period (137)" if key == "no-handler"
                 else ": it handles SIGTERM itself, where the text's 3g dies of it (143)")
        lessons.append(HANDLES_SIGTERM.key)
    return lessons, told


def judge(obs) -> Judgment:
    stops = {key: obs[key].stop() for key in EXPECTED}
    mine = [key for key in EXPECTED if obs[key].server_file]
    if mine:
        lessons, told = [], []
        for key in EXPECTED:
            if key in mine:
                found, sentence = yours(key, obs[key])
                lessons += [lesson for lesson in found if lesson not in lessons]
            else:
                sentence = f"{key}: against {who(obs[key], DOES[key], [obs[k] for k in mine])} {stopped(stops[key])}"
            told.append(sentence + ".")
        numbers = {"timeout_s": TIMEOUT, **{f"{key}_stop_s": stop.seconds for key, stop in stops.items()},
                   **{f"{key}_exit": stop.exit_code for key, stop in stops.items()}}
        labs = all(holds(key, obs[key]) for key in EXPECTED if key not in mine)
        return Judgment.weighed(not lessons and all(holds(key, obs[key]) for key in mine), labs, " ".join(told),
                                numbers, lessons, lab_trial="3g with its SIGTERM handler")
    return Judgment.of(
        reproduced=all(holds(key, obs[key]) for key in EXPECTED),
        observed=" ".join(f"{key}: docker stop -t {TIMEOUT} took {stop.seconds:.2f}s, exit "
                          f"{stop.exit_code}{' (SIGKILL)' if stop.killed else ''}." for key, stop in stops.items()),
        numbers={"timeout_s": TIMEOUT, **{f"{key}_stop_s": stop.seconds for key, stop in stops.items()},
                 **{f"{key}_exit": stop.exit_code for key, stop in stops.items()}},
    )


SCENARIO = Scenario(
    name="pid1-signals",
    section="Part 3's servers as a container's PID 1: no SIGTERM handler, so `docker stop` waits and kills",
    summary="no SIGTERM handler as PID 1: docker stop waits and SIGKILLs (137); an init or a handler stops at once",
    prediction=(f"The text's server has no SIGTERM handler. As PID 1, `docker stop -t {TIMEOUT}` waits the whole "
                f"{TIMEOUT}s and ends in SIGKILL (exit 137). The same server under docker-init (`init: true`) "
                "dies of SIGTERM (143); a server that handles SIGTERM stops by itself (0), unless a "
                "shell-form CMD puts /bin/sh in front of it, which neither dies of SIGTERM nor passes it on (137)."),
    why=("The kernel gives the init of a PID namespace no default action for signals sent from outside it, so "
         "SIGTERM to a PID 1 without a handler is dropped; after the grace period the engine sends SIGKILL, "
         "which cannot be. docker-init is PID 1 instead and passes SIGTERM to the server, for which the default "
         "action applies again; a shell as PID 1 catches nothing and forwards nothing."),
    trials=(
        Trial("no-handler", ServerSpec(stage="3g", sigterm=Sigterm.DEFAULT), ACTIONS,
              title="no SIGTERM handler, as the text's files, as PID 1"),
        Trial("no-handler-init", ServerSpec(stage="3g", sigterm=Sigterm.DEFAULT, init=True), ACTIONS,
              title="the same under docker-init (init: true)"),
        Trial("handler", ServerSpec(stage="3g", sigterm=Sigterm.HANDLED), ACTIONS,
              title="the lab's 3g, which handles SIGTERM, as PID 1"),
        Trial("handler-sh", ServerSpec(stage="3g", sigterm=Sigterm.HANDLED, shell_form=True), ACTIONS,
              title="the lab's 3g behind a shell-form CMD: /bin/sh is PID 1"),
    ),
    judge=judge,
    needs=(Needs.INIT,),
    lessons=(HANDLES_SIGTERM, IGNORES_SIGTERM, NO_ANSWER),
)
