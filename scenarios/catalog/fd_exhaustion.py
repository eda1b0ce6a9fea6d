"""Part 3, webserver3d.py under `ulimit -n 256` with client3.py --max-clients=300."""
from lbaws.stages import HELLO
from scenarios.spec import Curl, Limits, Load, Scenario, ServerSpec, Settle, Trial, Until, Verdict, Watch

LIMITS = Limits(nofile=256, nproc=1024)
LOAD = Load(clients=300, hold=5, deadline=40, connect_timeout=3)


def accepted(record) -> int:
    """How many connections 3d kept: the last len(clients) the lab's 3d prints, as the text's does; for
    a reader's file, which may print anything, the descriptors sampled above its start."""
    counts = record.counts_printed()
    if counts and not record.server_file:
        return counts[-1]
    return max(0, record.peak("fds") - (record.baseline_fds or 0))


def judge(obs) -> Verdict:
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
    return Verdict(
        reproduced=leaky.died and emfile and in_accept and 0 < kept < LIMITS.nofile and survived,
        observed=(f"3d accepted {kept} connections and died in accept() with {error!r}; it started with "
                  f"{baseline} descriptors, so it held {at_death} of its {LIMITS.nofile} at death (highest "
                  f"sampled: {sampled}). 3g under the same limit took the same load ({served} connections), "
                  f"peaked at {fixed.peak('fds')} descriptors, ended with {fixed.final_fds} as it started "
                  f"({fixed.baseline_fds}) and still answered curl."),
        numbers={"nofile": LIMITS.nofile, "clients": LOAD.clients, "accepted": kept,
                 "baseline_fds": baseline, "fds_at_death": at_death, "peak_sampled_fds": sampled,
                 "error": error, "exit_code": leaky.exit_code, "3g_connected": served,
                 "3g_peak_fds": fixed.peak("fds"), "3g_final_fds": fixed.final_fds,
                 "3g_survived": survived},
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
