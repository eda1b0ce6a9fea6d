"""`lbaws check` on learner-style server files (tests/servers/, written for these tests), judged by the
experiments that flood a server: it says yes to a file that behaves as the text's stage and no, with the
reason, to one that does not.

The checks (flood_checks.PYTHON_FILES) start together with the other languages', two at a time, and each
test reads its own result. Their experiments put the lab's own 3d beside the reader's file under a flood
of clients: one pool, beside the rest of the suite but never beside a real bench run (tests/conftest.py);
the checks decided by one quiet experiment are in test_check_one_experiment.py.
"""
import json
import re
from pathlib import Path

import pytest

from checking import out, row
from scenarios.catalog.lessons import KEEPS_COPY, NEVER_WAITS, ONE_AT_A_TIME, REAPS_ONE
from scenarios.judging.profile import PER_CONNECTION

# One pool with test_check_any_language.py's checks (flood_checks.py), on one xdist worker.
pytestmark = [pytest.mark.flood, pytest.mark.xdist_group("flood-checks")]


@pytest.fixture
def checked(flood_checks):
    return flood_checks


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
def test_the_texts_3g_and_3d_profiles(checked):
    good, leaky = checked["good-3g"], checked["3d"]
    assert good.process.returncode == 0, out(good)
    assert leaky.process.returncode == 0, out(leaky)
    assert good.summary["profile"]["model"] == leaky.summary["profile"]["model"] == PER_CONNECTION
    assert good.summary["profile"]["reaping"].startswith("reaps in its SIGCHLD handler, and every child: 0 zombies after")
    assert leaky.summary["profile"]["reaping"].startswith("never reaps: ")
    assert good.summary["profile"]["answers"] == ("HTTP/1.1 200 OK; no length: the body ends at close; closes after "
                                                  "the response")


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
    assert "zombies were left though a SIGCHLD handler runs: it reaps one child per signal" in printed
    assert "fix " + REAPS_ONE.fix in printed


@pytest.mark.container
@pytest.mark.parametrize("name", ["classy", "selectors"])
def test_correct_forking_servers_in_other_shapes_behave_as_3g(checked, name):
    check = checked[name]
    assert check.process.returncode == 0, out(check)
    assert set(check.verdicts().values()) == {"BEHAVES AS THE TEXT'S 3G"}
    assert "None" not in " ".join(check.observed(s) for s in check.verdicts())


@pytest.mark.container
def test_a_parent_that_waits_right_after_fork_is_told_it_serves_one_client_at_a_time(checked):
    check = checked["serial"]
    assert check.process.returncode == 1, out(check)
    assert check.verdicts()["served-at-once"] == "DIFFERS"
    assert "Your server served one client at a time, as the text's 3b does." in check.observed("served-at-once")
    assert row(check, "served-at-once")["fix"] == [ONE_AT_A_TIME.fix]


@pytest.mark.container
def test_a_server_that_never_waits_is_told_to_reap_in_a_loop(checked):
    check = checked["never-waits"]
    assert check.process.returncode == 1, out(check)
    observed = check.observed("waitpid-reaper")
    assert observed.startswith("your server (in 3g's place), 128 clients: 128 responses, 128 zombies after")
    assert "3g, which reaps in a waitpid(-1, WNOHANG) loop and closes the parent's copy, leaves 0 zombies" in observed
    assert NEVER_WAITS.fix in row(check, "waitpid-reaper")["fix"]


@pytest.mark.container
def test_a_3d_in_3gs_place_keeps_every_trials_readings_and_names_both_faults(checked):
    check = checked["3d-as-3g"]
    assert check.process.returncode == 1, out(check)
    assert check.verdicts() == {"starts": "DIFFERS", "waitpid-reaper": "DIFFERS", "fd-exhaustion": "DIFFERS"}
    # Its profile already shows it: the 16 children of the held connections all left as zombies.
    assert "zombies; the text's 3g reaps every one (waitpid(-1, WNOHANG) in a loop) and leaves 0" in \
        check.observed("starts")
    reaper = row(check, "waitpid-reaper")
    assert reaper["observed"].startswith("your server (in 3g's place), 128 clients: 128 responses, 128 zombies")
    assert "could not judge" not in reaper["observed"] and "None" not in row(check, "fd-exhaustion")["observed"]
    numbers = json.loads(Path(reaper["report"]).read_text())["verdict"]["numbers"]
    assert numbers["128_zombies_after"] == 128 and numbers["128_final_fds"] > numbers["128_baseline_fds"]
    fixes = " ".join(reaper["fix"])
    assert NEVER_WAITS.fix in fixes and KEEPS_COPY.fix in fixes
    # Its parent's copies filled nofile: accept() died of EMFILE, the real run of the "emfile" rule, with
    # which process held the descriptors read from the samples (the parent's own count climbing).
    flood = row(check, "fd-exhaustion")["diagnosis"]
    assert flood["rules"][0] == "emfile", flood
    assert re.match(r"accept\(\) failed with EMFILE \('OSError: \[Errno 24\] Too many open files'\): the descriptors "
                    r"were held by the parent, your server's main process: its own count climbed from \d+ to \d+ "
                    r"\(the highest sampled; nofile 256\)", flood["findings"][0]["seen"]), flood
    assert row(check, "fd-exhaustion")["fix"][0] == KEEPS_COPY.fix


@pytest.mark.container
def test_children_that_never_exit_differ_from_3g_by_the_processes_their_container_held(checked):
    check = checked["never-exit"]
    assert check.process.returncode == 1, out(check)
    assert check.verdicts() == {"starts": "DIFFERS", "waitpid-reaper": "DIFFERS"}
    observed = check.observed("waitpid-reaper")
    # Its direct children stay few and it leaves no zombie: the judge alone found it behaving as 3g.
    assert re.match(r"after 128 requests your server's container held 1[23]\d processes \(it began with \d+\); the "
                    r"text's 3g holds 1 plus the children still serving: its children never exit\. Your server "
                    r"\(in 3g's place\), 128 clients: 128 responses, 0 zombies after", observed), observed
    reaper = row(check, "waitpid-reaper")
    assert reaper["diagnosis"]["rules"][0] == "children-never-exit"
    assert reaper["fix"][0].startswith("the text's child ends with os._exit(0)")
