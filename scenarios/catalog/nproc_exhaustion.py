"""Part 3, webserver3d.py under `ulimit -u 400` and `ulimit -n 500` with client3.py --max-clients=500."""
from scenarios.catalog.fd_exhaustion import accept_queue, overflow_reason
from scenarios.spec import FdCount, Limits, Load, Scenario, ServerSpec, Settle, Trial, Until, Watch
from scenarios.verdict import Judgment

LIMITS = Limits(nofile=500, nproc=400, memory="2g")
LOAD = Load(clients=500, hold=5, deadline=45, connect_timeout=3)


def children_at_death(record) -> int:
    """The lab's 3d prints len(clients) after each successful fork, as the text's does: the last number is
    how many children existed. A reader's file may print anything: count its sampled children instead."""
    counts = record.counts_printed()
    if counts and not record.server_file:
        return counts[-1]
    last = record.last_alive()
    return last.live + last.zombies


def judge(obs) -> Judgment:
    record = obs["3d"]
    error = record.error_line()
    eagain = "Resource temporarily unavailable" in error and "11" in error
    in_fork = record.died_in("fork")
    last = record.last_alive()
    sampled = last.live + last.zombies
    children = children_at_death(record)
    reproduced = record.died and eagain and in_fork and 0 < children < LIMITS.nproc
    overflow = "" if reproduced else overflow_reason(record)
    fate = f"fork() failed with {error!r}" if record.died else "3d was still running"
    return Judgment.of(
        reproduced=reproduced,
        observed=((f"{overflow} " if overflow else "")
                  + f"{fate} after {children} children (zombies and live, all of UID "
                  f"{record.uid}); with the server itself that is {children + 1} processes against nproc="
                  f"{LIMITS.nproc}. The last sample {'before death ' if record.died else ''}saw {sampled} children "
                  f"({last.zombies} zombies) and {last.fds} open descriptors (nofile="
                  f"{LIMITS.nofile})."),
        numbers={"nproc": LIMITS.nproc, "nofile": LIMITS.nofile, "clients": LOAD.clients,
                 "children_at_death": children, "last_sample_children": sampled,
                 "last_sample_zombies": last.zombies, "last_sample_fds": last.fds,
                 "error": error, "exit_code": record.exit_code, **accept_queue(record)},
    )


SCENARIO = Scenario(
    name="nproc-exhaustion",
    section="Part 3: webserver3d.py with `ulimit -u 400`, `ulimit -n 500` and `client3.py --max-clients=500`",
    summary="3d's zombies pile up against nproc=400 until fork() fails with EAGAIN",
    prediction=("Soon enough the server blows up with OSError: [Errno 11] Resource temporarily unavailable when "
                "it tries to create a new child process."),
    why=("Zombies still count as processes of the user: the kernel releases a child's slot only when its parent "
         "waits for it. 3d never waits, so its children add up to the max user processes limit and fork() fails."),
    trials=(
        # Sampled as root: as the server's UID each sample would take one of the 400 slots it counts.
        Trial("3d", ServerSpec(stage="3d", limits=LIMITS), (LOAD, Settle(until=Until.EXITED, timeout=10)),
              watch=Watch.NPROC, fd_count=FdCount.KERNEL),
    ),
    judge=judge,
)
