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
from scenarios.catalog.lessons import KEEPS_COPY, NEVER_WAITS, ONE_AT_A_TIME
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
    # Other shapes: a class with its own greeting and a Content-Length, a selectors loop answering
    # HTTP/1.0 with another body, os.fork() in a bare loop, a parent that waits right after fork().
    "classy": ("Classy-Server.v2.py", "--stage", "3g", "--scenario", "client-hang", "--scenario", "fd-exhaustion",
               "--scenario", "served-at-once"),
    "selectors": ("selectors_webserver3g.py", "--scenario", "client-hang", "--scenario", "fd-exhaustion"),
    "keeps-copy": ("forks_keeps_copy.py", "--stage", "3g", "--scenario", "client-hang"),
    "serial": ("serial_webserver3g.py", "--scenario", "served-at-once"),
    "never-waits": ("never_waits_webserver3g.py", "--scenario", "waitpid-reaper"),
    "3d-as-3g": ("webserver3d.py", "--stage", "3g", "--scenario", "waitpid-reaper", "--scenario", "fd-exhaustion"),
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
                                for name in ("starts", "served-at-once", "client-hang", "fd-exhaustion", "waitpid-reaper",
                                             "pid1-signals", "nproc-shared-uid")}
    summary = check.summary
    assert summary["stage"] == "3g" and len(summary["sha256"]) == 64
    report = json.loads(Path(summary["scenarios"][3]["report"]).read_text())
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
    assert check.observed("waitpid-reaper").startswith("your server (in 3g's place), 128 clients: ")
    assert "fix one wait() per SIGCHLD misses the children whose signals arrived together" in printed


@pytest.mark.container
def test_keeping_the_parents_copy_differs_from_3g_because_curl_hangs(checked):
    check = checked["no-close-3g"]
    assert check.process.returncode == 1, out(check)
    assert check.verdicts()["client-hang"] == "DIFFERS"
    observed = check.observed("client-hang")
    assert observed.startswith("against your server (in 3g's place) curl got status 200 with 'Hello, World!'")
    assert "then hung until its own --max-time 5 (exit 28" in observed and "1 client connection it never closed" in observed
    assert row(check, "client-hang")["fix"] == [KEEPS_COPY.fault + ": " + KEEPS_COPY.fix]


def row(check, scenario):
    return next(r for r in check.summary["scenarios"] if r["scenario"] == scenario)


@pytest.mark.container
@pytest.mark.parametrize("name", ["classy", "selectors"])
def test_correct_forking_servers_in_other_shapes_behave_as_3g(checked, name):
    check = checked[name]
    assert check.process.returncode == 0, out(check)
    assert set(check.verdicts().values()) == {"BEHAVES AS THE TEXT'S 3G"}
    assert "None" not in " ".join(check.observed(s) for s in check.verdicts())


@pytest.mark.container
def test_a_kept_copy_shows_in_the_sockets_when_content_length_lets_curl_finish(checked):
    check = checked["keeps-copy"]
    assert check.process.returncode == 1, out(check)
    observed = check.observed("client-hang")
    assert observed.startswith("against your server (in 3g's place) curl got status 200 with 'hi there'")
    assert "exited 0" in observed and "1 client connection it never closed" in observed
    assert "told curl its length (Content-Length), so curl could finish without the FIN" in observed
    assert row(check, "client-hang")["fix"] == [KEEPS_COPY.fault + ": " + KEEPS_COPY.fix]


@pytest.mark.container
def test_a_parent_that_waits_right_after_fork_is_told_it_serves_one_client_at_a_time(checked):
    check = checked["serial"]
    assert check.process.returncode == 1, out(check)
    assert check.verdicts()["served-at-once"] == "DIFFERS"
    assert "Your server served one client at a time, as the text's 3b does." in check.observed("served-at-once")
    assert row(check, "served-at-once")["fix"] == [ONE_AT_A_TIME.fault + ": " + ONE_AT_A_TIME.fix]


@pytest.mark.container
def test_a_server_that_never_waits_is_told_to_reap_in_a_loop(checked):
    check = checked["never-waits"]
    assert check.process.returncode == 1, out(check)
    observed = check.observed("waitpid-reaper")
    assert observed.startswith("your server (in 3g's place), 128 clients: 128 responses, 128 zombies after")
    assert "3g, which reaps in a waitpid(-1, WNOHANG) loop and closes the parent's copy, leaves 0 zombies" in observed
    assert NEVER_WAITS.fault + ": " + NEVER_WAITS.fix in row(check, "waitpid-reaper")["fix"]


@pytest.mark.container
def test_a_3d_in_3gs_place_keeps_every_trials_readings_and_names_both_faults(checked):
    check = checked["3d-as-3g"]
    assert check.process.returncode == 1, out(check)
    assert check.verdicts() == {"starts": "BEHAVES AS THE TEXT'S 3G", "waitpid-reaper": "DIFFERS",
                                "fd-exhaustion": "DIFFERS"}
    reaper = row(check, "waitpid-reaper")
    assert reaper["observed"].startswith("your server (in 3g's place), 128 clients: 128 responses, 128 zombies")
    assert "could not judge" not in reaper["observed"] and "None" not in row(check, "fd-exhaustion")["observed"]
    numbers = json.loads(Path(reaper["report"]).read_text())["verdict"]["numbers"]
    assert numbers["128_zombies_after"] == 128 and numbers["128_final_fds"] > numbers["128_baseline_fds"]
    fixes = " ".join(reaper["fix"])
    assert NEVER_WAITS.fix in fixes and KEEPS_COPY.fix in fixes


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
