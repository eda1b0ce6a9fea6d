"""The reader's checks whose experiments flood the lab's own stages beside the reader's server (the lab's
3d under a flood, say): every one of test_check.py and test_check_any_language.py in one pool, three at a
time, longest first, so the lanes end together; beside it runs the scenario floods' own lane (tests/conftest.py).
"""
from checking import prepared, run_all
import languages

# name -> the `lbaws check` arguments after the file; each decides with the fewest experiments it can.
PYTHON_FILES = {
    "good-3g": ("webserver3g.py",),
    "3d-as-3g": ("webserver3d.py", "--stage", "3g", "--scenario", "waitpid-reaper", "--scenario", "fd-exhaustion"),
    "3d": ("webserver3d.py",),
    # Other shapes: a class with its own greeting and a Content-Length, a selectors loop answering
    # HTTP/1.0 with another body, a parent that waits right after fork().
    "classy": ("Classy-Server.v2.py", "--stage", "3g", "--scenario", "client-hang", "--scenario", "fd-exhaustion",
               "--scenario", "served-at-once"),
    "selectors": ("selectors_webserver3g.py", "--scenario", "client-hang", "--scenario", "fd-exhaustion"),
    # Timed against its own sleep, as iterative-blocking is: a busy machine would blur one-at-a-time.
    "serial": ("serial_webserver3g.py", "--scenario", "served-at-once"),
    "wait-once-3g": ("wait_once_webserver3g.py", "--scenario", "waitpid-reaper"),
    "never-waits": ("never_waits_webserver3g.py", "--scenario", "waitpid-reaper"),
    # Children that fall back into accept(): direct children few, the container's tree 1 + one per request.
    "never-exit": ("learners/never_exit_webserver3g.py", "--scenario", "waitpid-reaper"),
}
# The pool is the suite's longest lane: three at a time (each its experiments three at a time, floods too).
AT_ONCE = 3
# Seconds of experiments each took when measured (two at a time, nothing else beside them): the order.
MEASURED = {"good-3g": 78, "3d-as-3g": 67, "3d": 45, "classy": 34, "c3g": 30, "c3d": 30, "selectors": 23,
            "serial": 15, "never-exit": 74, "wait-once-3g": 12, "never-waits": 11, "c3d-as-3g": 9, "shell": 4}


def run_every_one(tmp_path_factory, shell_image):
    """{name: Checked} of every flood check, run."""
    checks = {**prepared(PYTHON_FILES, tmp_path_factory), **languages.runs(tmp_path_factory, shell_image)}
    assert set(checks) == set(MEASURED)
    return run_all({name: checks[name] for name in sorted(checks, key=MEASURED.get, reverse=True)}, AT_ONCE)
