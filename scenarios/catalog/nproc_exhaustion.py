"""Part 3, webserver3d.py under `ulimit -u 400` and `ulimit -n 500` with client3.py --max-clients=500.

A reader's 3d shows the lesson when fork() is refused with EAGAIN once its zombies fill nproc, whether
it then dies (as the text's does) or logs it and carries on; its children are counted from the samples.
"""
from scenarios.catalog.fd_exhaustion import PATIENCE, RETRY, accept_queue, overflow_reason, starved
from scenarios.catalog.lessons import DIES, WAITS
from scenarios.judging.phrases import count, load_failure, who
from scenarios.vocabulary.spec import FdCount, Limits, Load, Scenario, ServerSpec, Settle, Trial, Until, Watch
from scenarios.vocabulary.verdict import Judgment

LIMITS = Limits(nofile=500, nproc=400, memory="2g")
LOAD = Load(clients=500, hold=5, deadline=PATIENCE, connect_timeout=RETRY, connect_patience=PATIENCE)
# Children 3d forks before the UID holds nproc processes: the connections that must reach its accept().
NEEDED = LIMITS.nproc - 1
# How a refused fork() reads in any language: Python's OSError, C's perror(), errno's name.
EAGAIN_SIGNS = ("Resource temporarily unavailable", "EAGAIN", "[Errno 11]")


def children_at_death(record) -> int:
    """The lab's 3d prints len(clients) after each successful fork, as the text's does: the last number is
    how many children existed. A reader's file may print anything: count its sampled children instead."""
    counts = record.counts_printed()
    if counts and not record.server_file:
        return counts[-1]
    last = record.last_alive()
    return last.live + last.zombies


def fork_refused(record) -> bool:
    """fork() failed with EAGAIN: the server died of it, or (a reader's) logged it and carried on."""
    if record.died:
        error = record.error_line()
        return any(sign in error for sign in EAGAIN_SIGNS) and record.died_in("fork")
    return bool(record.server_file) and any(record.log_lines(sign) for sign in EAGAIN_SIGNS)


def refusal(record) -> str:
    """The line that says fork() was refused: the fatal error, or the first one logged."""
    if record.died:
        return record.error_line()
    return next(line.strip() for line in record.logs.splitlines() if any(sign in line for sign in EAGAIN_SIGNS))


def yours(record, numbers: dict) -> Judgment:
    """A reader's 3d: its zombies fill nproc and fork() is refused; the lab's 3d is said by what it does."""
    last = record.last_alive()
    children, refused = last.live + last.zombies, fork_refused(record)
    failed = load_failure(record) if "load" in record.planned else ""
    name = who(record)
    if refused and record.died:
        fate = f"{name} died (status {record.exit_code}) when fork() failed with {refusal(record)!r}"
    elif refused:
        fate = f"{name} had fork() fail ({refusal(record)!r}) and carried on"
    elif record.died:
        fate = f"{name} exited with status {record.exit_code} ({record.error_line() or 'no traceback'})"
    else:
        fate = f"{name} was still running at the end"
    told = (f"{fate}, the last sample {'before' if record.died else 'at'} the end seeing {children} children "
            f"({count(last.zombies, 'zombie')}, all of UID {record.uid}): with the server itself {children + 1} "
            f"processes against nproc={LIMITS.nproc}, and {last.fds} open descriptors (nofile={LIMITS.nofile})")
    if failed:
        told += f"; the load client failed ({failed})"
    lessons = []
    if record.died and not refused:
        lessons.append(DIES.key)
    if not refused and last.zombies < LIMITS.nproc // 2:
        told += ": its zombies did not pile up, so it waits for its children"
        lessons.append(WAITS.key)
    busy = "" if refused else starved(record, NEEDED, children)
    overflow = "" if refused or busy else overflow_reason(record)
    if overflow:
        told = f"{overflow} {told[:1].upper()}{told[1:]}"
    told += (f". 3d, which never waits, piles up zombies until fork() fails with EAGAIN (OSError: [Errno 11] "
             f"Resource temporarily unavailable) at nproc={LIMITS.nproc}, before its descriptors reach "
             f"nofile={LIMITS.nofile}.")
    numbers.update(children_at_death=children, load_client=failed or "ok")
    if busy:
        return Judgment.busy(f"{who(record)}: {busy}", told, numbers)
    return Judgment.of(refused and not lessons, told, numbers, lessons)


def judge(obs) -> Judgment:
    record = obs["3d"]
    error = record.error_line()
    eagain = "Resource temporarily unavailable" in error and "11" in error
    in_fork = record.died_in("fork")
    last = record.last_alive()
    sampled = last.live + last.zombies
    numbers = {"nproc": LIMITS.nproc, "nofile": LIMITS.nofile, "clients": LOAD.clients,
               "children_at_death": None, "last_sample_children": sampled,
               "last_sample_zombies": last.zombies, "last_sample_fds": last.fds,
               "error": error, "exit_code": record.exit_code, **accept_queue(record)}
    if record.server_file:
        return yours(record, numbers)
    children = children_at_death(record)
    numbers["children_at_death"] = children
    reproduced = record.died and eagain and in_fork and 0 < children < LIMITS.nproc
    busy = "" if reproduced else starved(record, NEEDED, children)
    overflow = "" if reproduced or busy else overflow_reason(record)
    fate = f"fork() failed with {error!r}" if record.died else "3d was still running"
    failed = load_failure(record) if "load" in record.planned else ""
    observed = ((f"{overflow} " if overflow else "")
                + f"{fate} after {children} children (zombies and live, all of UID "
                f"{record.uid}); with the server itself that is {children + 1} processes against nproc="
                f"{LIMITS.nproc}. The last sample {'before death ' if record.died else ''}saw {sampled} children "
                f"({last.zombies} zombies) and {last.fds} open descriptors (nofile="
                f"{LIMITS.nofile})." + (f" The load client failed ({failed})." if failed else ""))
    if busy:
        return Judgment.busy(f"3d: {busy}", observed, numbers)
    return Judgment.of(reproduced=reproduced, observed=observed, numbers=numbers)


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
    lessons=(WAITS, DIES),
    floods=True,
)
