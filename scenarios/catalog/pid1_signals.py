"""The text's servers have no SIGTERM handler: as a container's PID 1, `docker stop` has to kill them."""
from scenarios.spec import Curl, Needs, Scenario, ServerSpec, Sigterm, Stop, Trial
from scenarios.verdict import Judgment

TIMEOUT = 3  # docker stop's grace period, short so the scenario stays quick
STOP = Stop(timeout=TIMEOUT)
ACTIONS = (Curl(max_time=5), STOP)
# trial -> (whether docker stop must wait out its grace period and SIGKILL, the exit codes allowed)
EXPECTED = {"no-handler": (True, {137}), "no-handler-init": (False, {143}), "handler": (False, {0}),
            "handler-sh": (True, {137})}
# "At once" is anything well inside the grace period: docker stop itself takes a moment on a busy host.
AT_ONCE = 0.75 * TIMEOUT


def holds(key: str, record) -> bool:
    killed, codes = EXPECTED[key]
    stop = record.stop()
    waited = stop.seconds >= TIMEOUT - 0.1
    return (record.curl().status == 200 and stop.exit_code in codes
            and (waited if killed else stop.seconds < AT_ONCE))


def named(key: str, record) -> str:
    """The trial, and in a check whose server ran there: "no-handler (your server as PID 1)"."""
    if not record.server_file:
        return key
    return f"{key} (your server {'under docker-init' if key.endswith('init') else 'as PID 1'})"


def judge(obs) -> Judgment:
    stops = {key: obs[key].stop() for key in EXPECTED}
    return Judgment.of(
        reproduced=all(holds(key, obs[key]) for key in EXPECTED),
        observed=" ".join(f"{named(key, obs[key])}: docker stop -t {TIMEOUT} took {stop.seconds:.2f}s, exit "
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
                "dies of SIGTERM at once (143); a server that handles SIGTERM stops at once (0), unless a "
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
)
