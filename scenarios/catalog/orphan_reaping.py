"""Part 3's zombies inside a container: orphans are re-parented to PID 1, and PID 1 decides their fate.

Every trial serves the lab's orphans app, which the text's 3d and 3g do not, so a reader's file never
runs here (scenarios.executor.substitute keeps the lab's stage); the names still say whose server it was.
"""
from scenarios.judging.phrases import who
from scenarios.vocabulary.spec import Load, Needs, Pause, Scenario, ServerSpec, Snapshot, Trial
from scenarios.vocabulary.verdict import Judgment

REQUESTS = 5
# Seconds each orphan outlives the child that forked it: long enough that the snapshot after the load
# finds it still there on a busy machine, whether or not PID 1 will reap it.
LIFE = 5
ORPHAN = "orphan"  # the name apps/orphans.py gives each grandchild, what ps shows
# One connection per client whichever client3.py plays it (--client): one orphan per request.
ACTIONS = (Load(clients=REQUESTS, conns=1, hold=0.2, deadline=15, path=f"/?seconds={LIFE}"), Snapshot(key="during"),
           Pause(LIFE + 0.5), Snapshot(key="after"))
# (trial, what PID 1 should be, whether the orphans' zombies stay, whether the server keeps its own)
EXPECTED = {"3d": ("lbaws", True, True), "3d-sh": ("sh", False, True), "3d-init": ("docker-init", False, True),
            "3g": ("lbaws", False, False)}


def server(stage: str, **pid1) -> ServerSpec:
    return ServerSpec(stage=stage, app="orphans:app", image="wsgi", **pid1)


def reading(record) -> dict:
    """Who PID 1 is; the orphans seen under it (alive, or a zombie PID 1 has not reaped); zombies left by
    parent: PID 1's orphans, the server's own."""
    during, after = record.snapshot("during"), record.snapshot("after")
    pid1 = after.pid1()
    adopted = [p for p in during.processes if p.comm == ORPHAN and p.ppid == 1]
    own = [p for p in after.zombies_of(record.server_pid) if p.comm != ORPHAN]
    return {"pid1": pid1.comm if pid1 else None, "server_pid": record.server_pid, "orphans_adopted": len(adopted),
            "orphan_zombies_of_pid1": len(after.zombies_of(1, ORPHAN)),
            "orphan_zombies_anywhere": sum(1 for p in after.processes if p.zombie and p.comm == ORPHAN),
            "own_zombies_of_server": len(own)}


def holds(key: str, seen: dict) -> bool:
    pid1, orphans_stay, own_stay = EXPECTED[key]
    return (seen["pid1"] == pid1 and seen["orphans_adopted"] == REQUESTS
            and seen["orphan_zombies_of_pid1"] == (REQUESTS if orphans_stay else 0)
            and seen["orphan_zombies_anywhere"] == seen["orphan_zombies_of_pid1"]
            and seen["own_zombies_of_server"] == (REQUESTS if own_stay else 0))


def describe(key: str, seen: dict, record=None) -> str:
    name = f"{key} ({who(record)})" if record is not None and record.server_file else key
    return (f"{name}: PID 1 is {seen['pid1']} (the server is PID {seen['server_pid']}); {seen['orphans_adopted']} "
            f"orphans were its children after the load; afterwards {seen['orphan_zombies_of_pid1']} orphan zombies of "
            f"PID 1 and {seen['own_zombies_of_server']} zombies of the server's own.")


def judge(obs) -> Judgment:
    seen = {key: reading(obs[key]) for key in EXPECTED}
    return Judgment.of(
        reproduced=all(holds(key, value) for key, value in seen.items()),
        observed=f"{REQUESTS} requests, each leaving an orphan that exits {LIFE}s later. "
                 + " ".join(describe(key, value, obs[key]) for key, value in seen.items()),
        numbers={"requests": REQUESTS, "orphan_life_s": LIFE,
                 **{f"{key}_{name}": value for key, values in seen.items() for name, value in values.items()}},
    )


SCENARIO = Scenario(
    name="orphan-reaping",
    section="Part 3's zombies inside a container: whoever is PID 1 adopts the orphans (`ps`, `init: true`)",
    summary="orphans go to PID 1: 3d leaves their zombies, 3g, docker-init and a shell-form CMD's sh collect them",
    prediction=("A child that exits before its own child leaves an orphan, which the kernel gives to PID 1. With "
                "3d as PID 1 (it never waits) the orphans' zombies pile up beside its own; with 3g as PID 1 (its "
                "waitpid(-1, WNOHANG) loop collects any child) or docker-init (`init: true`) none remain. A "
                "shell-form CMD makes /bin/sh PID 1; Debian's dash waits for any child while it runs the server, "
                "so it collects them too, but leaves 3d's own zombies to 3d."),
    why=("Only a process's parent can wait() for it, and an orphan's parent is the init of its PID namespace: "
         "in a container, whatever the CMD started. A PID 1 that never waits (3d, like the text's servers run "
         "with an exec-form CMD) keeps every adopted zombie forever; an init, or any waitpid(-1) loop, collects "
         "them; no PID 1 can collect the zombies of another process, which is why 3d's own stay under an init."),
    trials=(
        Trial("3d", server("3d"), ACTIONS, title="3d as PID 1 (an exec-form CMD)"),
        Trial("3d-sh", server("3d", shell_form=True), ACTIONS, title="a shell-form CMD: /bin/sh -c is PID 1"),
        Trial("3d-init", server("3d", init=True), ACTIONS, title="init: true: docker-init (tini) is PID 1"),
        Trial("3g", server("3g"), ACTIONS, title="3g as PID 1: waitpid(-1) collects adopted children too"),
    ),
    judge=judge,
    needs=(Needs.INIT,),
)
