"""Part 3, webserver3e.py: a SIGCHLD handler interrupts accept(); Python 3 restarts it, Python 2 did not.

A reader's 3e runs in the Python 3 trial only (the emulation is a switch of the lab's server): it is
judged by whether accept() came back once a child had exited, whatever it answers, and whether it
waited for that child. The second curl comes only once no child is alive, so a response that states
its length (curl done while the child still sleeps) still puts a SIGCHLD before the next accept().
"""
from scenarios.catalog.lessons import ACCEPT_EINTR, DIES, NEVER_WAITS
from scenarios.judging.phrases import said, sentences, who
from scenarios.vocabulary.results import MissingResult
from scenarios.vocabulary.spec import Curl, Scenario, ServerSpec, Settle, Trial, Until
from scenarios.vocabulary.verdict import Judgment

EINTR_TEXT = "[Errno 4] Interrupted system call"
DOES = {"3e-py2": "has Python 2's signals (--python2-signals)", "3f-py2": "has the same emulation"}


def answer(record, key: str):
    """The curl of `key`, or None when it left no result (the server had died, say)."""
    try:
        return record.curl(key)
    except MissingResult:
        return None


def answered(record, key: str) -> bool:
    """curl got a response: any status line and body count, the lesson is whether accept() came back."""
    curl = answer(record, key)
    return curl is not None and curl.status is not None


def got(record, key: str) -> str:
    curl = answer(record, key)
    return "no curl result" if curl is None else said(curl)


def zombies_left(record) -> int | None:
    """Zombies once both children were done: the final snapshot, else the last sample alive."""
    if record.final is not None:
        return len(record.final.zombies)
    try:
        return record.last_alive().zombies
    except MissingResult:
        return None


def ended(record) -> str:
    return f"exited with status {record.exit_code} ({record.error_line() or 'no traceback'})"


def py3_reading(py3, beside) -> tuple:
    """(it behaved as 3e, the lessons it shows, its sentence, children reaped) for the Python 3 trial."""
    name = who(py3, beside=beside)
    if not py3.server_file:
        reaped = py3.logs.count("terminated with status")
        ok = (not py3.died and answered(py3, "curl") and answered(py3, "again")
              and "Interrupted system call" not in py3.logs and reaped >= 1)
        return ok, [], (f"Python 3: {name} reaped {reaped} children in its SIGCHLD handler, answered the next curl "
                        f"and printed no EINTR traceback"), reaped
    zombies = zombies_left(py3)
    lessons = []
    first = (f"{name} answered curl with {got(py3, 'curl')}" if answered(py3, "curl")
             else f"against {name} curl got {got(py3, 'curl')}")
    if py3.died:
        eintr = EINTR_TEXT in py3.error_line()
        lessons.append(ACCEPT_EINTR.key if eintr else DIES.key)
        told = f"{first} and then {ended(py3)}"
        if eintr:
            told += (": the EINTR escaped accept(), as the text's 3e does on Python 2; on Python 3 accept() is "
                     "retried after the handler (PEP 475) unless the handler itself raises")
    else:
        came_back = answered(py3, "again")
        if not came_back:
            lessons.append(ACCEPT_EINTR.key)
        if zombies:
            lessons.append(NEVER_WAITS.key)
        told = f"{first}; once that child had exited, " + (
            f"the next curl got {got(py3, 'again')}: accept() came back after the SIGCHLD" if came_back
            else f"the next curl got {got(py3, 'again')}: accept() did not come back after the SIGCHLD")
        if zombies is None:
            told += "; its zombies were not counted at the end"
        elif zombies:
            told += (f"; it left {zombies} zombie{'s' if zombies != 1 else ''}: it does not wait for its children, "
                     f"where 3e's SIGCHLD handler waits for each")
        else:
            told += "; it left no zombie"
    return not lessons, lessons, told, None if zombies is None else int(not zombies)


def judge(obs) -> Judgment:
    py3, py2, fixed = obs["3e"], obs["3e-py2"], obs["3f-py2"]
    py3_ok, lessons, py3_told, py3_reaped = py3_reading(py3, (py2, fixed))
    py2_error = py2.error_line()
    py2_died = py2.died and EINTR_TEXT in py2_error and "accept" in py2.traceback() and answered(py2, "curl")
    fixed_ok = (not fixed.died and answered(fixed, "curl") and answered(fixed, "again")
                and not fixed.traceback())
    numbers = {"py3_3e_alive": not py3.died, "py3_3e_reaped": py3_reaped, "py2_3e_exit_code": py2.exit_code,
               "py2_3e_error": py2_error, "py2_3f_alive": not fixed.died}
    if not py3.server_file:
        return Judgment.of(
            reproduced=py3_ok and py2_died and fixed_ok,
            observed=(f"{py3_told}. With --python2-signals, 3e died after its first child exited (status "
                      f"{py2.exit_code}): {py2_error!r}; 3f with the same emulation restarted accept() and "
                      f"answered the next curl."),
            numbers=numbers)
    # Beside a reader's 3e the lab's two emulated trials are named by what they do, and said as they went.
    py2_name, fixed_name = who(py2, DOES["3e-py2"], (py3,)), who(fixed, DOES["3f-py2"], (py3,))
    py2_told = (f"{py2_name} died after its first child exited (status {py2.exit_code}): {py2_error!r}" if py2_died
                else f"{py2_name} did not die of EINTR: its curl got {got(py2, 'curl')}, and it "
                     + (ended(py2) if py2.died else "was still running at the end"))
    fixed_told = (f"{fixed_name} restarted accept() and answered the next curl" if fixed_ok
                  else f"{fixed_name} did not answer the next curl ({got(fixed, 'again')}): it "
                       + (ended(fixed) if fixed.died else "was still running at the end"))
    numbers["py3_3e_zombies_left"] = zombies_left(py3)
    return Judgment.weighed(py3_ok, py2_died and fixed_ok, sentences([py3_told, py2_told, fixed_told]),
                            numbers, lessons, lab_trial="3e and 3f with --python2-signals")


SCENARIO = Scenario(
    name="sigchld-eintr",
    section="Part 3: webserver3e.py ([Errno 4] Interrupted system call) and webserver3f.py",
    summary="SIGCHLD interrupts accept(): Python 3 retries it (PEP 475); the Python 2 emulation dies like the text",
    prediction=("When the child exits, the SIGCHLD handler runs and accept() fails with socket.error: "
                "[Errno 4] Interrupted system call; 3f restarts accept() and no EINTR exception appears."),
    why=("accept() blocked in the kernel returns EINTR when the SIGCHLD handler runs; on Python 2 that error "
         "reached the server loop, and since Python 3.5 (PEP 475) the interpreter runs the handler and retries "
         "the call itself, so 3e survives. --python2-signals brings the old behaviour back by having the handler "
         "raise InterruptedError(EINTR) while the loop is blocked in accept(): 3e dies of it, 3f catches EINTR "
         "and loops back to accept()."),
    trials=(
        Trial("3e", ServerSpec(stage="3e"),
              (Curl(count=1, max_time=10), Settle(until=Until.NO_LIVE_CHILDREN, quiet=0.5, timeout=10),
               Curl(count=1, max_time=10, key="again"),
               Settle(until=Until.NO_LIVE_CHILDREN, quiet=0.5, timeout=10, key="done")),
              title="Python 3: PEP 475 restarts accept()"),
        Trial("3e-py2", ServerSpec(stage="3e", python2_signals=True),
              (Curl(count=1, max_time=10), Settle(until=Until.EXITED, timeout=10)),
              title="Python 2 behaviour emulated: EINTR escapes accept()"),
        Trial("3f-py2", ServerSpec(stage="3f", python2_signals=True),
              (Curl(count=1, max_time=10), Settle(until=Until.NO_LIVE_CHILDREN, quiet=0.5, timeout=10),
               Curl(count=1, max_time=10, key="again")),
              title="3f restarts accept() on EINTR"),
    ),
    judge=judge,
    lessons=(ACCEPT_EINTR, NEVER_WAITS, DIES),
)
