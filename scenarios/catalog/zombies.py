"""Part 3, webserver3d.py: every request leaves a zombie that kill -9 cannot remove."""
from scenarios.spec import KillZombies, Load, Pause, Scenario, ServerSpec, Snapshot, Trial
from scenarios.verdict import Judgment

REQUESTS = 5


def judge(obs) -> Judgment:
    record = obs["3d"]
    kill = record.kill()
    zombies = record.snapshot("zombies").zombies
    survivors = kill.survivors
    return Judgment.of(
        reproduced=(len(zombies) == REQUESTS and len(kill.zombies_before) == REQUESTS
                    and kill.kill_exit == 0 and len(survivors) == REQUESTS and not record.died),
        observed=(f"after {REQUESTS} requests ps showed {len(zombies)} processes in state Z (<defunct>) whose "
                  f"parent is the server (PID {record.server_pid}); kill -9 on them exited "
                  f"{kill.kill_exit} and {len(survivors)} of {len(kill.zombies_before)} were still there "
                  f"a second later."),
        numbers={"requests": REQUESTS, "zombies": len(zombies), "zombie_pids": [z.pid for z in zombies],
                 "killed": len(kill.zombies_before), "survived_kill_9": len(survivors)},
    )


SCENARIO = Scenario(
    name="zombies",
    section="Part 3: webserver3d.py, `ps auxw` shows Z+ <defunct>, and kill -9 cannot remove it",
    summary="3d never waits: K requests leave K zombies, children of the server, immune to kill -9",
    prediction=("ps shows a process in state Z+ named <defunct> for each request, and even kill -9 does not "
                "remove it."),
    why=("A zombie is a process that has terminated but whose parent has not waited for it, so the kernel keeps "
         "its PID and exit status for the parent to collect. There is nothing left to kill: only wait() by the "
         "parent (or the parent's death) removes it."),
    trials=(
        Trial("3d", ServerSpec(stage="3d"),
              (Load(clients=REQUESTS, deadline=15), Pause(1.0), Snapshot(key="zombies"), KillZombies())),
    ),
    judge=judge,
)
