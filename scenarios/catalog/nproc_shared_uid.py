"""`ulimit -u` counts a UID's processes on the whole host kernel: two containers of one UID share it.

A reader's 3g runs in both trials, beside the lab's 3d neighbour: its part is that it loses answers
with the shared UID at nproc and answers every curl with a UID of its own; what it logs of a refused
fork() is said when it is there, in any wording.
"""
from scenarios.catalog.fd_exhaustion import PATIENCE, RETRY
from scenarios.catalog.lessons import DIES, NO_ANSWER, NO_FORK
from scenarios.catalog.nproc_exhaustion import EAGAIN_SIGNS, fork_refused
from scenarios.judging.phrases import who
from scenarios.vocabulary.results import MissingResult
from scenarios.vocabulary.spec import (Curl, FdCount, Limits, Load, Neighbour, Scenario, ServerSpec, Settle, Snapshot,
                                       Trial, Until)
from scenarios.vocabulary.verdict import Judgment

NPROC = 60
LIMITS = Limits(nofile=1024, nproc=NPROC)
# 3d's zombies: with 3d itself and the other server, the UID then holds exactly NPROC processes.
ZOMBIES = NPROC - 2
CURLS = 5
FORK_FAILED = "fork() failed"  # what the lab's 3g logs when it drops a connection it could not fork for


def died_in_fork(record) -> int:
    """1 when the server died of EAGAIN in fork(), as the text's 3g does (the lab's logs it and lives on)."""
    return int(record.died and "[Errno 11]" in record.error_line() and record.died_in("fork"))


def neighbour(same_uid: bool) -> Neighbour:
    # Each connection waits as long as the kernel retries its SYN (3d's backlog is 5), and the zombies are
    # counted once every child has exited, not after a fixed second: a busy machine only makes it later.
    return Neighbour(ServerSpec(stage="3d", limits=LIMITS),
                     (Load(clients=ZOMBIES, hold=1, deadline=PATIENCE, connect_timeout=RETRY, connect_patience=PATIENCE),
                      Settle(until=Until.NO_LIVE_CHILDREN, quiet=1.0, timeout=30), Snapshot(key="zombies")),
                     same_uid=same_uid)


ACTIONS = (Curl(count=CURLS, gap=0.3, max_time=5),)


def forks_failed(record) -> int:
    """Refused forks the server told of: the lab's log line and the text's fatal EAGAIN, or for a reader's
    file every line that names EAGAIN, however it words it."""
    if not record.server_file:
        return record.log_lines(FORK_FAILED) + died_in_fork(record)
    return sum(1 for line in record.logs.splitlines() if FORK_FAILED in line or any(s in line for s in EAGAIN_SIGNS))


def neighbour_of(record):
    try:
        return record.partner()
    except MissingResult as missing:
        if not record.server_file:
            raise
        # The neighbour is the lab's: said so that a check reads it as the lab's fault, not the reader's.
        raise MissingResult(f"the lab's 3d neighbour beside trial {record.key}: "
                            f"{str(missing).split(': ', 1)[-1]}") from None


def reading(record) -> dict:
    hog = neighbour_of(record)
    curls = record.curls()
    return {"uid": record.uid, "neighbour_uid": hog.uid, "neighbour_zombies": len(hog.snapshot("zombies").zombies),
            "answered": sum(1 for c in curls.curls if c.status is not None),  # any status line and body
            "forks_failed": forks_failed(record), "alive": not record.died}


def ended(record) -> str:
    if not record.died:
        return ""
    return f", then exited with status {record.exit_code} ({record.error_line() or 'no traceback'})"


def logged(seen: dict) -> str:
    count = seen["forks_failed"]
    return f"logged {count} failed fork{'s' if count != 1 else ''}" if count else "logged no failed fork"


def yours(obs, shared: dict, own: dict, labs: bool, numbers: dict) -> Judgment:
    """The reader's 3g in both trials: answers lost at the shared UID's nproc, every one with its own UID."""
    lessons = []
    if shared["answered"] == CURLS:
        lessons.append(NO_FORK.key)
    if obs["shared"].died and not fork_refused(obs["shared"]) or obs["own"].died:
        lessons.append(DIES.key)
    elif own["answered"] < CURLS:
        lessons.append(NO_ANSWER.key)
    told = (f"A 3d neighbour made {shared['neighbour_zombies']} zombies as UID {shared['neighbour_uid']}. "
            f"{who(obs['shared'])[:1].upper()}{who(obs['shared'])[1:]}, in another container as the same UID, "
            f"answered {shared['answered']} of {CURLS} curls and {logged(shared)}{ended(obs['shared'])}. With a UID "
            f"of its own ({own['uid']}, the neighbour's {own['neighbour_uid']} with {own['neighbour_zombies']} "
            f"zombies) it answered {own['answered']} of {CURLS} and {logged(own)}{ended(obs['own'])}.")
    if NO_FORK.key in lessons:
        told += (f" It answered every curl with its UID at nproc={NPROC}: it forks no process per connection, "
                 f"which is what nproc counts.")
    told += (f" 3g forks a child for every request, so with the shared UID at nproc={NPROC} its fork() fails "
             f"(the text's 3g dies of EAGAIN), and with a UID of its own it answers all {CURLS}.")
    return Judgment.weighed(shared["answered"] < CURLS and not lessons, labs, told, numbers, lessons,
                            lab_trial="3d neighbour and its UIDs")


def in_words(obs, shared: dict, own: dict) -> str:
    """What both trials saw, for the lab's own run and the machine's ERROR."""
    return (f"A 3d neighbour made {shared['neighbour_zombies']} zombies as UID {shared['neighbour_uid']}. "
            f"{who(obs['shared'])} in another container as the same UID answered {shared['answered']} of "
            f"{CURLS} curls, with {shared['forks_failed']} failed forks. With a UID of its own ({own['uid']}, "
            f"the neighbour's {own['neighbour_uid']} with {own['neighbour_zombies']} zombies) it answered "
            f"{own['answered']} of {CURLS}, with {own['forks_failed']} failed forks.")


def judge(obs) -> Judgment:
    shared, own = reading(obs["shared"]), reading(obs["own"])
    numbers = {"nproc": NPROC, "zombies": ZOMBIES, "curls": CURLS,
               **{f"shared_{name}": value for name, value in shared.items()},
               **{f"own_{name}": value for name, value in own.items()}}
    short = [f"{key}: {seen['neighbour_zombies']}" for key, seen in (("shared", shared), ("own", own))
             if seen["neighbour_zombies"] < ZOMBIES]
    if short:
        # The shared UID never held nproc processes: whatever the 3g beside it did, it was never put to the test.
        return Judgment.busy(f"The 3d neighbour was to make {ZOMBIES} zombies and made fewer ({', '.join(short)}): "
                             f"its load did not get all its connections to accept() before the deadline.",
                             in_words(obs, shared, own), numbers)
    if obs["shared"].server_file or obs["own"].server_file:
        labs = (shared["uid"] == shared["neighbour_uid"] and own["uid"] != own["neighbour_uid"]
                and shared["neighbour_zombies"] == own["neighbour_zombies"] == ZOMBIES)
        return yours(obs, shared, own, labs, numbers)
    reproduced = (shared["uid"] == shared["neighbour_uid"] and own["uid"] != own["neighbour_uid"]
                  and shared["neighbour_zombies"] == own["neighbour_zombies"] == ZOMBIES
                  and shared["forks_failed"] > 0 and shared["answered"] < CURLS
                  and own["forks_failed"] == 0 and own["answered"] == CURLS)
    return Judgment.of(reproduced=reproduced, observed=in_words(obs, shared, own), numbers=numbers)


SCENARIO = Scenario(
    name="nproc-shared-uid",
    section="Part 3: `ulimit -u` counts every process of the user, here across two containers",
    summary=f"a 3d's {ZOMBIES} zombies make fork() fail in another container's 3g of the same UID; not with a UID each",
    prediction=(f"Two servers in two containers, both with nproc={NPROC}. When 3d's zombies bring their shared "
                f"UID to {NPROC} processes, 3g's fork() fails with EAGAIN although 3g has no zombie at all; run "
                "as different UIDs, 3g answers every request."),
    why=("RLIMIT_NPROC is checked against the number of processes the UID has on the host kernel, whatever "
         "container or PID namespace they live in, zombies included. That is why the lab gives every scenario "
         "run and every trial a UID of its own: with a shared UID, one experiment's zombies would fail another's "
         "forks."),
    trials=(
        # Sampled as root by the kernel's count: a probe process of the shared UID would take one of its slots.
        Trial("shared", ServerSpec(stage="3g", limits=LIMITS), ACTIONS, neighbour=neighbour(same_uid=True),
              title="3g beside a 3d of the same UID", fd_count=FdCount.KERNEL),
        Trial("own", ServerSpec(stage="3g", limits=LIMITS), ACTIONS, neighbour=neighbour(same_uid=False),
              title="3g beside a 3d of another UID", fd_count=FdCount.KERNEL),
    ),
    judge=judge,
    lessons=(NO_FORK, NO_ANSWER, DIES),
    floods=True,
)
