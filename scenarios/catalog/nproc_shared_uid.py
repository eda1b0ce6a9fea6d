"""`ulimit -u` counts a UID's processes on the whole host kernel: two containers of one UID share it."""
from scenarios.phrases import who
from scenarios.spec import (Curl, FdCount, Limits, Load, Neighbour, Pause, Scenario, ServerSpec, Snapshot, Trial)
from scenarios.verdict import Judgment

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
    return Neighbour(ServerSpec(stage="3d", limits=LIMITS),
                     (Load(clients=ZOMBIES, hold=1, deadline=20), Pause(1.0), Snapshot(key="zombies")),
                     same_uid=same_uid)


ACTIONS = (Curl(count=CURLS, gap=0.3, max_time=5),)


def reading(record) -> dict:
    hog = record.partner()
    curls = record.curls()
    return {"uid": record.uid, "neighbour_uid": hog.uid, "neighbour_zombies": len(hog.snapshot("zombies").zombies),
            "answered": sum(1 for c in curls.curls if c.status == 200),
            "forks_failed": record.log_lines(FORK_FAILED) + died_in_fork(record), "alive": not record.died}


def judge(obs) -> Judgment:
    shared, own = reading(obs["shared"]), reading(obs["own"])
    reproduced = (shared["uid"] == shared["neighbour_uid"] and own["uid"] != own["neighbour_uid"]
                  and shared["neighbour_zombies"] == own["neighbour_zombies"] == ZOMBIES
                  and shared["forks_failed"] > 0 and shared["answered"] < CURLS
                  and own["forks_failed"] == 0 and own["answered"] == CURLS)
    return Judgment.of(
        reproduced=reproduced,
        observed=(f"A 3d neighbour made {shared['neighbour_zombies']} zombies as UID {shared['neighbour_uid']}. "
                  f"{who(obs['shared'])} in another container as the same UID answered {shared['answered']} of {CURLS} curls, with "
                  f"{shared['forks_failed']} failed forks. With a UID of its own ({own['uid']}, the "
                  f"neighbour's {own['neighbour_uid']} with {own['neighbour_zombies']} zombies) it answered "
                  f"{own['answered']} of {CURLS}, with {own['forks_failed']} failed forks."),
        numbers={"nproc": NPROC, "zombies": ZOMBIES, "curls": CURLS,
                 **{f"shared_{name}": value for name, value in shared.items()},
                 **{f"own_{name}": value for name, value in own.items()}},
    )


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
)
