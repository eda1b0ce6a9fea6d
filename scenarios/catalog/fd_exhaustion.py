"""Part 3, webserver3d.py under `ulimit -n 256` with client3.py --max-clients=300."""
from lbaws import stages
from lbaws.stages import HELLO
from scenarios.results import MissingResult
from scenarios.spec import (ClientPattern, Curl, Limits, Load, Scenario, ServerSpec, Settle, Trial, Until,
                            Watch)
from scenarios.verdict import Judgment

LIMITS = Limits(nofile=256, nproc=1024)
LOAD = Load(clients=300, hold=5, deadline=40, connect_timeout=3)


def accepted(record) -> int:
    """How many connections 3d kept: the last len(clients) the lab's 3d prints, as the text's does; for
    a reader's file, which may print anything, the descriptors sampled above its start."""
    counts = record.counts_printed()
    if counts and not record.server_file:
        return counts[-1]
    return max(0, record.peak("fds") - (record.baseline_fds or 0))


def attempted(record) -> tuple:
    """(connections the load client tried to open, the client3.py it played); None for an unread count."""
    if "load" not in record.planned:  # a record of the server alone: only its own readings count
        return None, None
    try:
        load = record.load()
        return load.attempted, load.pattern
    except MissingResult:  # the client printed no summary: the count is unknown, not the verdict
        return None, None


def accept_queue(record) -> dict:
    """What reached the server's accept() and what its listen queue dropped, for a verdict's numbers."""
    tried, pattern = attempted(record)
    return {"client": pattern, "attempted": tried, "reached_accept": record.reached_accept,
            "listen_overflows": record.listen_overflows, "listen_drops": record.listen_drops}


def overflow_reason(record) -> str:
    """Why connections did not reach accept(), when the listen queue overflowed; "" when it did not."""
    overflows, reached = record.listen_overflows, record.reached_accept
    tried, pattern = attempted(record)
    if not overflows:
        return ""
    lead = (f"only {reached} of {tried} connections reached accept()" if tried is not None and reached < tried
            else f"{reached} connections reached accept()")
    if pattern == ClientPattern.REPOSITORY.value:
        # A handshake dropped on a full queue leaves the client sure it is connected: the repository's
        # copy sends, closes and exits at once instead of staying for the kernel's retry.
        why = ("dropping connections whose client had already gone (the repository's client3.py closes each "
               "at once)")
    else:
        why = "and every handshake it dropped had to be retried while the client waited"
    return (f"{lead}: the listen backlog of {stages.find(record.stage).backlog} overflowed {overflows} times, "
            f"{why}.")


def judge(obs) -> Judgment:
    leaky, fixed = obs["3d"], obs["3g"]
    error = leaky.error_line()
    emfile = "Too many open files" in error and "24" in error
    in_accept = "accept" in leaky.traceback()
    kept = accepted(leaky)
    baseline = leaky.baseline_fds or 0
    at_death = baseline + kept  # every accepted socket stays open in the parent
    sampled = leaky.peak("fds")
    survived = (not fixed.died and fixed.curl().body == HELLO
                and fixed.peak("fds") < LIMITS.nofile and fixed.final_fds == fixed.baseline_fds)
    served = fixed.load().connected
    reproduced = leaky.died and emfile and in_accept and 0 < kept < LIMITS.nofile and survived
    fate = (f"died in accept() with {error!r}; it started with {baseline} descriptors, so it held {at_death} of "
            f"its {LIMITS.nofile} at death" if leaky.died else
            f"was still running at the end; it started with {baseline} descriptors and ended with "
            f"{leaky.final_fds} of its {LIMITS.nofile}")
    overflow = "" if reproduced else overflow_reason(leaky)
    return Judgment.of(
        reproduced=reproduced,
        observed=((f"3d: {overflow} " if overflow else "")
                  + f"3d accepted {kept} connections and {fate} (highest "
                  f"sampled: {sampled}). 3g under the same limit took the same load ({served} connections), "
                  f"peaked at {fixed.peak('fds')} descriptors, ended with {fixed.final_fds} as it started "
                  f"({fixed.baseline_fds}) and still answered curl."),
        numbers={"nofile": LIMITS.nofile, "clients": LOAD.clients, "accepted": kept,
                 "baseline_fds": baseline, "fds_at_death": at_death, "peak_sampled_fds": sampled,
                 "error": error, "exit_code": leaky.exit_code, "3g_connected": served,
                 "3g_peak_fds": fixed.peak("fds"), "3g_final_fds": fixed.final_fds,
                 "3g_survived": survived, **accept_queue(leaky),
                 **{f"3g_{name}": value for name, value in accept_queue(fixed).items() if name != "client"}},
    )


SCENARIO = Scenario(
    name="fd-exhaustion",
    section="Part 3: webserver3d.py with `ulimit -n 256` and `client3.py --max-clients=300`",
    summary="3d never closes the parent's copies and dies of EMFILE at nofile=256; 3g survives the same load",
    prediction=("Soon enough the server explodes: accept() fails with [Errno 24] Too many open files after "
                "about 252 connections."),
    why=("Every fork leaves the parent holding its duplicate of the client socket, so each connection costs "
         "the parent one descriptor for good until accept() has no free slot under RLIMIT_NOFILE. 3g closes "
         "the parent's copy after fork, so its descriptor count returns to where it started."),
    trials=(
        Trial("3d", ServerSpec(stage="3d", limits=LIMITS), (LOAD, Settle(until=Until.EXITED, timeout=10)),
              watch=Watch.NOFILE),
        Trial("3g", ServerSpec(stage="3g", limits=LIMITS),
              (LOAD, Settle(until=Until.NO_LIVE_CHILDREN, timeout=15), Curl(count=1, max_time=5)),
              watch=Watch.NOFILE, title="the fix under the same limit"),
    ),
    judge=judge,
)
