"""Part 3, webserver3e.py: a SIGCHLD handler interrupts accept(); Python 3 restarts it, Python 2 did not."""
from scenarios.spec import Curl, Pause, Scenario, ServerSpec, Settle, Trial, Until
from scenarios.verdict import Judgment

EINTR_TEXT = "[Errno 4] Interrupted system call"


def answered(record, key: str) -> bool:
    """curl got a response: any status line and body count, the lesson is whether accept() came back."""
    return record.curl(key).status is not None


def judge(obs) -> Judgment:
    py3, py2, fixed = obs["3e"], obs["3e-py2"], obs["3f-py2"]
    # The lab's 3e says each reap; a reader's file is judged by what is left: no zombie at the end.
    py3_reaped = (py3.logs.count("terminated with status") if not py3.server_file
                  else int(py3.final is not None and not py3.final.zombies))
    py3_ok = (not py3.died and answered(py3, "curl") and answered(py3, "again")
              and "Interrupted system call" not in py3.logs and py3_reaped >= 1)
    py2_error = py2.error_line()
    py2_died = py2.died and EINTR_TEXT in py2_error and "accept" in py2.traceback() and answered(py2, "curl")
    fixed_ok = (not fixed.died and answered(fixed, "curl") and answered(fixed, "again")
                and not fixed.traceback())
    return Judgment.of(
        reproduced=py3_ok and py2_died and fixed_ok,
        observed=(f"Python 3: 3e reaped {py3_reaped} children in its SIGCHLD handler, answered the next curl "
                  f"and printed no EINTR traceback. With --python2-signals, 3e died after its first child "
                  f"exited (status {py2.exit_code}): {py2_error!r}; 3f with the same emulation restarted "
                  f"accept() and answered the next curl."),
        numbers={"py3_3e_alive": not py3.died, "py3_3e_reaped": py3_reaped, "py2_3e_exit_code": py2.exit_code,
                 "py2_3e_error": py2_error, "py2_3f_alive": not fixed.died},
    )


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
              (Curl(count=1, max_time=10), Pause(1.0), Curl(count=1, max_time=10, key="again")),
              title="Python 3: PEP 475 restarts accept()"),
        Trial("3e-py2", ServerSpec(stage="3e", python2_signals=True),
              (Curl(count=1, max_time=10), Settle(until=Until.EXITED, timeout=10)),
              title="Python 2 behaviour emulated: EINTR escapes accept()"),
        Trial("3f-py2", ServerSpec(stage="3f", python2_signals=True),
              (Curl(count=1, max_time=10), Pause(1.0), Curl(count=1, max_time=10, key="again")),
              title="3f restarts accept() on EINTR"),
    ),
    judge=judge,
)
