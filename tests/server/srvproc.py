"""`lbaws serve` as a real subprocess in its own process group, and `lbaws` commands run to completion."""

import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from lbaws import stages

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps"
HERE = Path(__file__).resolve().parent
SERVING = re.compile(rb"Serving HTTP on port (\d+) \.\.\.")


def _limit(max_fds, cgroup):
    """`ulimit -n` for the server only (as the text does before flooding 3d), and the cgroup it joins."""
    if max_fds is not None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max_fds, max_fds))
    if cgroup is not None:
        join_cgroup(cgroup)


def join_cgroup(cgroup):
    """Move the calling process into the cgroup folder `cgroup` (its limits bind what it forks from now on)."""
    with open(os.path.join(cgroup, "cgroup.procs"), "w") as procs:
        procs.write(str(os.getpid()))


class ServerProcess:
    """One `lbaws serve` subprocess in its own process group, its stderr in a file."""

    def __init__(self, args, log_path, python_flags=(), env=None, cwd=APPS, max_fds=None, cgroup=None):
        self.args = list(args)
        self.log_path = log_path
        self._log = open(log_path, "wb")
        full_env = dict(os.environ, PYTHONUNBUFFERED="1")
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, *python_flags, "-m", "lbaws", "serve", *self.args],
            cwd=cwd, env=full_env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown also kills forked children
            preexec_fn=None if max_fds is None and cgroup is None else lambda: _limit(max_fds, cgroup),
        )
        self.port = None

    @property
    def pid(self):
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def wait_listening(self, deadline=15.0):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            match = SERVING.search(self.log_path.read_bytes())
            if match:
                self.port = int(match.group(1))
                return self
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode} before listening:\n{self.log()}")
            time.sleep(0.02)
        raise AssertionError(f"server did not start listening within {deadline}s:\n{self.log()}")

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def wait_for_log(self, pattern, deadline=5.0, count=1):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if len(re.findall(pattern, self.log())) >= count:
                return True
            time.sleep(0.02)
        return False

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        finally:
            self._log.close()


def run_lbaws(*args, cwd=APPS, timeout=30, env=None):
    """Run `python -m lbaws ARGS` to completion (commands that are expected to exit)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "lbaws", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def no_sleep(stage):
    """`--sleep 0` where the stage has a sleep to take away; a prefork stage has none and refuses the option."""
    return ["--sleep", "0"] if stages.find(stage).sleeps else []
