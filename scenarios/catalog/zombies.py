"""Part 3, webserver3d.py: every request leaves a zombie that kill -9 cannot remove.

A reader's 3d is judged by its zombies against the connections the load client made, whatever it
answers: one zombie each, all still there after kill -9, is 3d's lesson. Fewer means it waits for
its children, which is the fix the text brings in 3e.
"""
from scenarios.catalog.lessons import DIES, NO_ANSWER, WAITS
from scenarios.judging.phrases import count, load_failure, who
from scenarios.vocabulary.spec import KillZombies, Load, Pause, Scenario, ServerSpec, Snapshot, Trial
from scenarios.vocabulary.verdict import Judgment

REQUESTS = 5


def killed(kill) -> str:
    if kill.kill_exit is None:
        return "there was no zombie for kill -9"
    return (f"kill -9 on them exited {kill.kill_exit} and {len(kill.survivors)} of {len(kill.zombies_before)} "
            f"were still there a second later")


def yours(record, zombies: list, kill, failed: str, numbers: dict) -> Judgment:
    """A reader's 3d: one zombie per connection, every one of them immune to kill -9."""
    # The load client may open more than one connection per client (--client text): each is a child.
    connections = REQUESTS if failed else record.load().connected
    made = (f" (the load client failed: {failed})" if failed
            else f" ({connections} connections)" if connections != REQUESTS else "")
    told = (f"{who(record)} left {count(len(zombies), 'zombie')} (processes in state Z whose parent it is) after "
            f"{REQUESTS} requests{made}; {killed(kill)}")
    lessons = []
    if kill.kill_exit is not None and len(kill.survivors) < len(kill.zombies_before):
        # kill -9 cannot end a zombie: the ones gone were waited for by their parent meanwhile.
        told += ": the others were gone because your server waited for them meanwhile (kill -9 cannot end a zombie)"
        lessons.append(WAITS.key)
    elif len(zombies) < connections and not (failed and not zombies):
        told += ": it waits for some or all of its children"
        lessons.append(WAITS.key)
    elif failed and not zombies:
        lessons.append(NO_ANSWER.key)
    if record.died:
        told += f"; it then exited with status {record.exit_code} ({record.error_line() or 'no traceback'})"
        lessons.append(DIES.key)
    told += (f". 3d, which never waits, leaves one zombie per connection ({connections}), and kill -9 removes "
             f"none of them: only the parent's wait() does.")
    return Judgment.of(not lessons, told, numbers, lessons)


def judge(obs) -> Judgment:
    record = obs["3d"]
    kill = record.kill()
    zombies = record.snapshot("zombies").zombies
    survivors = kill.survivors
    failed = load_failure(record) if "load" in record.planned else ""
    numbers = {"requests": REQUESTS, "zombies": len(zombies), "zombie_pids": [z.pid for z in zombies],
               "killed": len(kill.zombies_before), "survived_kill_9": len(survivors), "load_client": failed or "ok"}
    if record.server_file:
        return yours(record, zombies, kill, failed, numbers)
    return Judgment.of(
        reproduced=(len(zombies) == REQUESTS and len(kill.zombies_before) == REQUESTS
                    and kill.kill_exit == 0 and len(survivors) == REQUESTS and not record.died),
        observed=(f"after {REQUESTS} requests ps showed {len(zombies)} processes in state Z (<defunct>) whose "
                  f"parent is the server (PID {record.server_pid}); kill -9 on them exited "
                  f"{kill.kill_exit} and {len(survivors)} of {len(kill.zombies_before)} were still there "
                  f"a second later." + (f" The load client failed ({failed})." if failed else "")),
        numbers=numbers,
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
    lessons=(WAITS, NO_ANSWER, DIES),
)
