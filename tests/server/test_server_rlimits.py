"""`lbaws limits`, the entrypoint that lowers nofile and nproc itself: run as a real process, read back
from /proc/self/limits of what it exec'd."""

import resource
import subprocess
import sys

import pytest

WRAPPER = [sys.executable, "-m", "lbaws", "limits"]
# The exec'd process reports its own limits and PID, and how far open() gets under its nofile.
REPORT = ("import os, resource; print(os.getpid()); "
          "print(*resource.getrlimit(resource.RLIMIT_NOFILE)); print(*resource.getrlimit(resource.RLIMIT_NPROC)); "
          "opened = []\n"
          "try:\n"
          "    while len(opened) < 1000: opened.append(open('/dev/null'))\n"
          "except OSError as exc: print(len(opened), exc.errno)\n"
          "else: print(len(opened), 0)")


def run(*args, preexec_fn=None):
    return subprocess.run([*WRAPPER, *args], capture_output=True, text=True, timeout=30, preexec_fn=preexec_fn)


def limits_of(pid: int) -> dict:
    """A live process's /proc/PID/limits: {"Max open files": (soft, hard), ...}."""
    with open(f"/proc/{pid}/limits") as table:
        rows = table.read().splitlines()[1:]
    return {row[:26].strip(): tuple(row[26:].split()[:2]) for row in rows}


def test_the_execd_process_holds_the_asked_limits_soft_and_hard():
    process = subprocess.Popen([*WRAPPER, "--nofile", "64", "--nproc", "300", "--", sys.executable, "-c",
                                "import sys, time; print('up', flush=True); sys.stdin.read()"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "up\n"
        # The same PID: the wrapper became the command (execvp) instead of starting a child.
        in_force = limits_of(process.pid)
        assert in_force["Max open files"] == ("64", "64")
        assert in_force["Max processes"] == ("300", "300")
    finally:
        process.communicate("", timeout=10)
    assert process.returncode == 0


def test_the_lowered_nofile_is_the_one_that_bites():
    result = run("--nofile", "32", "--", sys.executable, "-c", REPORT)
    assert result.returncode == 0, result.stderr
    pid, nofile, nproc, opened = result.stdout.splitlines()
    assert nofile == "32 32"
    count, errno = opened.split()
    # stdin, stdout, stderr and whatever the interpreter holds open take the rest of the 32.
    assert errno == "24" and 20 <= int(count) < 32
    assert nproc.split() == [str(v) for v in resource.getrlimit(resource.RLIMIT_NPROC)]  # untouched


def test_a_shell_command_keeps_its_arguments_and_exit_status():
    # `--nofile` after `--` is the command's own ($0 of the shell), not the wrapper's.
    result = run("--nproc", "200", "--", "sh", "-c", "grep 'Max processes' /proc/self/limits; exit 7", "--nofile")
    assert result.returncode == 7, result.stderr
    assert result.stdout.split()[2:4] == ["200", "200"]


def test_nothing_raises_a_limit_once_lowered():
    result = run("--nofile", "64", "--", sys.executable, "-c",
                 "import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))")
    assert result.returncode == 1 and "ValueError" in result.stderr


def lower_hard_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (100, 100))


@pytest.mark.parametrize("args, says", [
    (["--nofile", "64", "true"], "the command goes after `--`"),
    (["--nofile", "64", "--"], "no command after `--`"),
    (["--", "true"], "say which limit to lower"),
    (["--nofile", "many", "--", "true"], "--nofile takes a whole number, not 'many'"),
    (["--nproc", "0", "--", "true"], "--nproc 0 is out of range"),
    (["--nofile", "-5", "--", "true"], "--nofile -5 is out of range"),
    (["--stack", "8", "--", "true"], "unknown option '--stack'"),
    (["--nofile", "8", "--nofile", "9", "--", "true"], "--nofile given twice"),
    (["--nofile", "--", "true"], "--nofile needs a number"),
])
def test_bad_input_is_one_line_and_exit_2(args, says):
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("lbaws limits: ")
    assert says in result.stderr


def test_raising_above_the_hard_limit_is_refused_in_one_line():
    result = run("--nofile", "1000", "--", "true", preexec_fn=lower_hard_nofile)
    assert result.returncode == 2
    assert result.stderr == ("lbaws limits: cannot set nofile to 1000: the hard limit here is 100, and a process "
                             "can only lower it\n")


def test_a_missing_command_says_so_like_a_shell():
    result = run("--nofile", "64", "--", "no-such-command-lbaws")
    assert (result.returncode, result.stderr) == (127, "lbaws limits: no-such-command-lbaws: command not found\n")
