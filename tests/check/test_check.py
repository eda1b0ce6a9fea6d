"""`lbaws check` on learner-style server files (tests/servers/, written for these tests): it says
yes to a file that behaves as the text's stage and no, with the reason, to one that does not.

The checks that need containers start together, two at a time, and each test reads its own result.
"""
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import docker
import pytest

from lab.inventory import RUN_LABEL
from lab.runs import files_folder

HERE = Path(__file__).resolve().parent
SERVERS = HERE.parent / "servers"
ROOT = HERE.parents[1]
LBAWS = str(Path(sys.executable).with_name("lbaws")) if Path(sys.executable).with_name("lbaws").exists() \
    else shutil.which("lbaws")
AT_ONCE = 2
# The line every run starts with names the label its containers carry.
RUN_ID = re.compile(r"labelled org\.lbaws-lab\.run=(\S+?),")

# name -> the `lbaws check` arguments after the file; each decides with the fewest experiments it can.
CHECKS = {
    "good-3g": ("webserver3g.py",),
    "3d": ("webserver3d.py",),
    "wait-once-3g": ("wait_once_webserver3g.py", "--scenario", "waitpid-reaper"),
    "no-close-3g": ("no_close_webserver3g.py", "--scenario", "client-hang"),
    "webserver2": ("webserver2.py",),
    "headerless-2": ("{tmp}/headerless_webserver2.py",),
    "webserver1": ("webserver1.py",),
    "stringio": ("stringio_webserver3g.py", "--scenario", "client-hang"),
    "wrong-port": ("wrong_port_webserver3g.py", "--scenario", "client-hang"),
    "loopback": ("loopback_webserver3g.py", "--scenario", "client-hang"),
    "hangs": ("hangs_webserver3g.py", "--scenario", "client-hang"),
}


class Checked:
    def __init__(self, name, args, reports):
        self.name, self.args, self.reports = name, args, reports
        self.process = None
        self.duration = None

    def run(self):
        started = time.monotonic()
        self.process = subprocess.run([LBAWS, "check", str(SERVERS / self.args[0].format(tmp=self.reports)),
                                       *self.args[1:],
                                       "--reports", str(self.reports)],
                                      capture_output=True, text=True, timeout=900, cwd=ROOT)
        self.duration = time.monotonic() - started

    @property
    def summary(self):
        return json.loads((self.reports / "summary.json").read_text())

    def verdicts(self):
        return {row["scenario"]: row["verdict"] for row in self.summary["scenarios"]}

    def observed(self, scenario):
        return next(row["observed"] for row in self.summary["scenarios"] if row["scenario"] == scenario)


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """Every check of CHECKS, run as a reader runs it; a pool of AT_ONCE keeps the machine responsive."""
    results = {name: Checked(name, args, tmp_path_factory.mktemp(name)) for name, args in CHECKS.items()}
    # webserver2.py as a reader who forgot the app's headers would write it: status line and Server only.
    good = (SERVERS / "webserver2.py").read_text()
    forgetful = good.replace("['{}: {}'.format(k, v) for k, v in headers]", "['Server: ReadersWSGI 0.1']")
    assert forgetful != good
    (results["headerless-2"].reports / "headerless_webserver2.py").write_text(forgetful)
    queue = list(results.values())
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                item = queue.pop(0)
            item.run()

    threads = [threading.Thread(target=worker) for _ in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine = docker.from_env()
    # Only these checks' runs: other runs on the same engine (a scenario in another terminal) are not ours.
    runs = {run for c in results.values() for run in RUN_ID.findall(c.process.stdout + c.process.stderr)}
    assert runs, "no check said which run labels its containers"
    left = [c.name for run in sorted(runs)
            for c in engine.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run}"})]
    assert left == [], "a check left containers behind"
    # Only these runs' folders: a run on another worker may hold its copies at this moment.
    assert not [run for run in runs if files_folder(run).exists()], "a check left copies of the files behind"
    print("\n".join(f"check {c.name}: exit {c.process.returncode} in {c.duration:.1f}s" for c in results.values()))
    return results


def out(check):
    return check.process.stdout + check.process.stderr


@pytest.mark.container
@pytest.mark.timeout(1800)
def test_a_correct_3g_behaves_as_the_texts_3g_in_every_experiment(checked):
    check = checked["good-3g"]
    assert check.process.returncode == 0, out(check)
    assert check.verdicts() == {name: "BEHAVES AS THE TEXT'S 3G"
                                for name in ("starts", "client-hang", "fd-exhaustion", "waitpid-reaper",
                                             "pid1-signals", "nproc-shared-uid")}
    summary = check.summary
    assert summary["stage"] == "3g" and len(summary["sha256"]) == 64
    report = json.loads(Path(summary["scenarios"][2]["report"]).read_text())
    (record,) = report["observations"]["3g"]
    assert record["server_file"].endswith("webserver3g.py") and record["server_sha256"] == summary["sha256"]
    assert report["observations"]["3d"][0]["server_file"] == "", "the lesson's other trial stays the lab's"


@pytest.mark.container
def test_a_3d_like_file_behaves_as_the_texts_3d(checked):
    check = checked["3d"]
    assert check.process.returncode == 0, out(check)
    assert set(check.verdicts()) == {"starts", "client-hang", "fd-exhaustion", "zombies", "nproc-exhaustion",
                                     "pids-cgroup"}
    assert "Too many open files" in check.observed("fd-exhaustion")


@pytest.mark.container
def test_reaping_one_child_per_sigchld_leaves_zombies_and_differs_from_3g(checked):
    check = checked["wait-once-3g"]
    assert check.process.returncode == 1, out(check)
    assert check.verdicts()["waitpid-reaper"] == "DIFFERS"
    row = next(r for r in check.summary["scenarios"] if r["scenario"] == "waitpid-reaper")
    numbers = json.loads(Path(row["report"]).read_text())["verdict"]["numbers"]
    assert numbers["1000_zombies_after"] > 0
    printed = " ".join(check.process.stdout.split())  # the verdict block is wrapped for the terminal
    assert "waitpid-reaper: DIFFERS" in printed and "calls waitpid(-1, WNOHANG) until no finished child" in printed


@pytest.mark.container
def test_keeping_the_parents_copy_differs_from_3g_because_curl_hangs(checked):
    check = checked["no-close-3g"]
    assert check.process.returncode == 1, out(check)
    assert check.verdicts()["client-hang"] == "DIFFERS"
    assert "Against 3g, which closes the parent's copy, the same curl exited 28" in check.observed("client-hang")


@pytest.mark.container
def test_a_webserver2_serves_every_framework_and_one_that_drops_headers_differs(checked):
    good, headerless = checked["webserver2"], checked["headerless-2"]
    assert good.process.returncode == 0, out(good)
    assert good.verdicts()["frameworks"] == "BEHAVES AS THE TEXT'S 2"
    assert headerless.process.returncode == 1, out(headerless)
    assert headerless.verdicts()["frameworks"] == "DIFFERS"
    assert "some app's headers did not reach curl" in headerless.observed("frameworks")


@pytest.mark.container
def test_a_webserver1_is_judged_by_the_hello_checks(checked):
    check = checked["webserver1"]
    assert check.process.returncode == 0, out(check)
    assert check.verdicts() == {"starts": "BEHAVES AS THE TEXT'S 1", "hello": "BEHAVES AS THE TEXT'S 1"}


@pytest.mark.container
@pytest.mark.parametrize("name,expected", [
    ("stringio", "exited at start with status 1"),
    ("wrong-port", "did not listen on port 8888 within 20 s"),
    ("loopback", "listens on 127.0.0.1:8888 only"),
])
def test_a_server_that_cannot_be_reached_differs_at_once_with_the_reason(checked, name, expected):
    check = checked[name]
    assert check.process.returncode == 1, out(check)
    assert check.verdicts() == {"starts": "DIFFERS"}, "no experiment runs against a server that is not there"
    assert expected in check.observed("starts")
    assert "Traceback" not in check.process.stderr


@pytest.mark.container
def test_the_stringio_port_is_named_as_python_2(checked):
    observed = checked["stringio"].observed("starts")
    assert "ModuleNotFoundError: No module named 'StringIO'" in observed
    assert "It looks like Python 2: StringIO: use io.BytesIO" in observed


@pytest.mark.container
def test_a_server_that_hangs_every_client_is_bounded_by_the_deadlines(checked):
    check = checked["hangs"]
    assert check.process.returncode == 1, out(check)
    assert check.verdicts()["client-hang"] == "DIFFERS"
    assert check.duration < 90


def run_check(*args):
    return subprocess.run([LBAWS, "check", *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


@pytest.mark.parametrize("args,message", [
    (("python2_webserver1.py",), "python2_webserver1.py:8: this is Python 2 code"),
    (("nothere_webserver3g.py",), "nothere_webserver3g.py: no such file"),
    (("webserver3g.py", "--stage", "3z"), "unknown stage '3z'"),
    (("webserver3g.py", "--stage", "3a"), "no experiment of the lab can run a stage-3a file"),
    (("webserver3g.py", "--scenario", "zombies"), "zombies: no trial of stage 3g there"),
])
def test_a_file_the_lab_cannot_run_gets_one_line_and_exit_2(args, message):
    result = run_check(str(SERVERS / args[0]), *args[1:])
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("lbaws check: ") and message in line
    assert result.stdout == ""


def test_a_file_that_does_not_compile_names_its_line(tmp_path):
    broken = tmp_path / "webserver3g.py"
    broken.write_text("import socket\n\ndef serve(:\n    pass\n")
    result = run_check(str(broken))
    assert result.returncode == 2
    assert result.stderr.strip() == f"lbaws check: {broken}:3: does not compile under Python 3: invalid syntax"


def test_a_name_that_says_no_stage_asks_for_one(tmp_path):
    mine = tmp_path / "myserver.py"
    shutil.copy(SERVERS / "webserver3g.py", mine)
    result = run_check(str(mine))
    assert result.returncode == 2
    assert "give --stage (one of 1, 2, 3a" in result.stderr
