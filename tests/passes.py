"""`make test`: the suite's two passes at once (tests/conftest.py says which test goes to which).

The second pass, the floods and the bench (marker `alone`), runs one test at a time at the machine's
normal priority, its output on the terminal. Beside it the first pass, the tests that only wait, runs
side by side (xdist) at a lower one: nice 10 for its processes and a quarter of Docker's CPU weight for
the containers it starts (LBAWS_CPU_SHARES, lab/priority.py), so a flood keeps most of the CPU it has
alone. Not the least: at nice 19 and a weight of 2, a first-pass server starved for seconds beside a
flood check and missed its client's 3 s. The first pass writes to reports/tests/first-pass.log, printed
here once both passes have ended.
"""
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "reports" / "tests" / "first-pass.log"
PYTEST = [sys.executable, "-m", "pytest", "tests", "--durations=15"]
NICE = 10
CPU_SHARES = "256"  # of Docker's default 1024
# What a pass gets to finish its own clean-up after Ctrl-C before it is killed.
GRACE_S = 120


def _lower_priority():
    os.nice(NICE)


def start_first_pass(log):
    return subprocess.Popen([*PYTEST, "-m", "not alone"], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, "LBAWS_CPU_SHARES": CPU_SHARES},
                            preexec_fn=_lower_priority)


def interrupt(passes):
    """Ctrl-C reached every pass from the terminal, or only us (kill -INT): either way each gets its
    SIGINT once, and the time to remove its containers."""
    for each in passes:
        if each.poll() is None:
            each.send_signal(signal.SIGINT)
    for each in passes:
        try:
            each.wait(GRACE_S)
        except subprocess.TimeoutExpired:
            each.kill()
            each.wait()


def main() -> int:
    # Started with SIGINT ignored (`setsid make test &`, a script's `&`), the passes would inherit it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    LOG.parent.mkdir(parents=True, exist_ok=True)
    passes = []
    try:
        with LOG.open("w") as log:
            passes.append(start_first_pass(log))
        print(f"tests: the first pass (tests that only wait) runs beside this one at a lower priority; "
              f"its output: {LOG.relative_to(ROOT)}", flush=True)
        passes.append(subprocess.Popen([*PYTEST, "-m", "alone", "-n", "0"], cwd=ROOT))
        second = passes[1].wait()
        first = passes[0].wait()
    except KeyboardInterrupt:
        interrupt(passes)
        print("tests: interrupted", file=sys.stderr)
        return 130
    print(f"\n{'=' * 30} the first pass, from {LOG.relative_to(ROOT)} {'=' * 30}", flush=True)
    sys.stdout.write(LOG.read_text())
    print(f"tests: first pass exit {first}, second pass exit {second}")
    return 0 if first == second == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
