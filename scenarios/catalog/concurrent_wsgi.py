"""Part 3's exercise, webserver3h.py: the concurrent WSGI server serving each framework."""
from lab.inventory import APPS
from scenarios.spec import Curl, Scenario, ServerSpec, Settle, Snapshot, Trial, Until
from scenarios.verdict import Judgment

CLIENTS = 8
# Each request takes this long in the app (its /slow endpoint), so no server flag makes it slow and a
# reader's own 3h is judged the same way. One at a time, the 8th answer would come after 8 x 2 s; served
# concurrently, every client has its answer before a second slow request could have ended.
SLOW = 2.0


def judge(obs) -> Judgment:
    parts, numbers, ok = [], {}, True
    for app in APPS:
        image, record = app.role, obs[app.role]
        curls = record.curls()
        answered = sum(1 for body in curls.bodies() if body == app.greeting)
        slowest = curls.slowest_ttfb(unanswered=99.0)
        zombies = record.last_alive().zombies
        fds_back = record.final_fds == record.baseline_fds
        concurrent = slowest < 2 * SLOW
        ok = ok and answered == CLIENTS and concurrent and zombies == 0 and fds_back and not record.died
        parts.append(f"{image}: {answered}/{CLIENTS} answered, slowest first byte {slowest:.2f}s, "
                     f"peak {record.peak('live')} live children, {zombies} zombies after, "
                     f"fds {record.baseline_fds} -> {record.final_fds}")
        numbers.update({f"{image}_answered": answered, f"{image}_slowest_ttfb_s": slowest,
                        f"{image}_peak_live_children": record.peak("live"), f"{image}_zombies_after": zombies,
                        f"{image}_baseline_fds": record.baseline_fds, f"{image}_final_fds": record.final_fds})
    numbers.update({"clients": CLIENTS, "per_request_s": SLOW, "one_at_a_time_would_take_s": CLIENTS * SLOW})
    return Judgment.of(reproduced=ok, observed=(f"{CLIENTS} simultaneous clients of /slow, {SLOW:g}s per request (one at a time "
                                            f"that is {CLIENTS * SLOW:g}s): " + "; ".join(parts) + "."),
                   numbers=numbers)


SCENARIO = Scenario(
    name="concurrent-wsgi",
    section="Part 3: the exercise, webserver3h.py (part 2's WSGI server made concurrent)",
    summary="3h serves each framework to simultaneous slow clients: concurrently, no zombie, no leaked fd",
    prediction=("Updating the part 2 WSGI server with part 3's lessons makes it concurrent: every framework's "
                "clients are served at the same time, and no zombie or descriptor is left behind."),
    why=("3h forks a child per connection, closes the parent's copy of the client socket, and reaps with "
         "waitpid(-1, WNOHANG) in a loop. The WSGI application runs in the child, so a slow request only "
         "holds its own process."),
    trials=tuple(
        Trial(app.role, ServerSpec(stage="3h", app=app.spec, image=app.role),
              (Curl(count=CLIENTS, gap=0, max_time=SLOW + 8, path=f"/slow?seconds={SLOW:g}"),
               Settle(until=Until.NO_LIVE_CHILDREN, quiet=1.0, timeout=20), Snapshot(key="after")))
        for app in APPS
    ),
    judge=judge,
)
