"""Part 3, webserver3g.py: waitpid(-1, WNOHANG) in a loop reaps every child, 128 or 1000 at once."""
from scenarios.spec import Limits, Load, Scenario, ServerSpec, Settle, Snapshot, Trial, Until
from scenarios.verdict import Judgment

LIMITS = Limits(nofile=1024, nproc=2048, memory="2g")
LOADS = {"3g-128": 128, "3g-1000": 1000}


def judge(obs) -> Judgment:
    parts, numbers, ok = [], {}, True
    for key, clients in LOADS.items():
        record = obs[key]
        zombies = record.last_alive().zombies
        fds_back = record.final_fds == record.baseline_fds
        responses = record.load().responses
        ok = ok and not record.died and zombies == 0 and fds_back and responses == clients
        parts.append(f"{clients} clients: {responses} responses, peak {record.peak('live')} live children, "
                     f"{zombies} zombies after, descriptors {record.baseline_fds} -> {record.final_fds}")
        numbers.update({f"{clients}_responses": responses, f"{clients}_zombies_after": zombies,
                        f"{clients}_baseline_fds": record.baseline_fds, f"{clients}_final_fds": record.final_fds,
                        f"{clients}_peak_live_children": record.peak("live"),
                        f"{clients}_peak_zombies": record.peak("zombies")})
    return Judgment.of(reproduced=ok, observed="3g, " + "; ".join(parts) + ".", numbers=numbers)


SCENARIO = Scenario(
    name="waitpid-reaper",
    section="Part 3: webserver3g.py with `client3.py --max-clients 128`",
    summary="3g reaps in a waitpid(WNOHANG) loop: no zombie after 128 or 1000 clients, fds back to start",
    prediction="No more zombies after 128 simultaneous clients: life is good without zombies.",
    why=("One SIGCHLD may stand for many exited children, so 3g's handler calls waitpid(-1, WNOHANG) until no "
         "finished child is left instead of reaping just one. Because the parent also closes its copy of each "
         "client socket, its descriptor count returns to where it started."),
    trials=tuple(
        Trial(key, ServerSpec(stage="3g", limits=LIMITS),
              (Load(clients=clients, read=True, deadline=60), Settle(until=Until.NO_LIVE_CHILDREN, quiet=1.0, timeout=30),
               Snapshot(key="after")))
        for key, clients in LOADS.items()
    ),
    judge=judge,
)
