"""`lbaws check` on learner-style servers of each class, in Python, C and Perl (tests/check/learners.py):
the profile measured at the top of each report, the verdict, and the key sentence of the diagnosis.

Each is decided by its profile and one quiet experiment (client-hang: one curl), so the module runs
beside the rest of the suite; its checks run two at a time (checking.run_all).
"""
import re
from pathlib import Path

import pytest

from checking import out, row, run_all
from scenarios.judging.profile import NEVER_EXIT, ONE_PROCESS, PER_CONNECTION, POOL, THREADS
import learners

BEHAVES = "BEHAVES AS THE TEXT'S 3G"


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    return run_all(learners.every_one(tmp_path_factory))


def profile(check):
    return check.summary["profile"]


def diagnosis(check, scenario):
    found = row(check, scenario)["diagnosis"]
    assert found, f"{scenario}: no diagnosis for a DIFFERS"
    return found


@pytest.mark.container
@pytest.mark.parametrize("name", ["never-exit", "c-never-exit", "perl-never-exit"])
def test_children_that_never_exit_differ_from_3g_with_the_processes_counted(checked, name):
    check = checked[name]
    assert check.process.returncode == 1, out(check)
    assert check.verdicts() == {"starts": "DIFFERS", "client-hang": BEHAVES}
    measured = profile(check)
    assert measured["model"] == NEVER_EXIT
    assert measured["idle_processes"] == 1 and measured["after_processes"] >= 17, measured
    said = check.observed("starts")
    assert re.search(rf"after 18 connections \(16 held, 2 requests\) your server's container held "
                     rf"{measured['after_processes']} processes \(it had 1 before them\): its children never exit; "
                     rf"the text's 3g holds 1 plus the children still serving", said), said
    found = diagnosis(check, "starts")
    assert found["rules"][0] == "children-never-exit"
    assert "the text's child ends with os._exit(0)" in row(check, "starts")["fix"][0]
    assert "parent's copy" not in " ".join(row(check, "starts")["fix"])


@pytest.mark.container
def test_accept_not_retried_on_eintr_is_told_3fs_lesson_from_its_last_words(checked):
    check = checked["c-eintr"]
    assert check.process.returncode == 1, out(check)
    # The profile's 16 children end while the parent waits in accept(): it dies there every time. Under
    # client-hang's one curl it dies only if the child ends while the parent is back in accept(), a race
    # a busy machine can lose (the parent not yet scheduled): then client-hang behaves.
    verdicts = check.verdicts()
    assert verdicts["starts"] == "DIFFERS" and set(verdicts) == {"starts", "client-hang"}
    died_in = [scenario for scenario in ("starts", "client-hang") if verdicts[scenario] == "DIFFERS"]
    measured = profile(check)
    assert measured["died"] and measured["exit_code"] == 1
    assert measured["last_words"] == "accept: Interrupted system call"
    for scenario in died_in:
        assert diagnosis(check, scenario)["rules"][0] == "accept-eintr"
        (fix, *_) = row(check, scenario)["fix"]
        assert fix.startswith("3f's accept() dies of EINTR when SIGCHLD's handler runs; the text's 3f and 3g retry")
    assert "the server exited under the experiment's load" not in check.process.stdout
    # The experiment's own report.md and report.html say what the terminal said, and the file's summary
    # opens with the profile.
    folder = Path(row(check, died_in[-1])["report"]).parent
    markdown = (folder / "report.md").read_text()
    assert "**Diagnosis.** your server died of EINTR: its last words were 'accept: Interrupted system call'" in markdown
    assert f"**The fix.** {fix}" in markdown
    assert "<dt>Diagnosis</dt><dd>your server died of EINTR" in (folder / "report.html").read_text()
    summary = (check.reports / "summary.md").read_text()
    assert summary.index("- dies: it exited (exit status 1); its last words: accept: Interrupted system call") \
        < summary.index("| file |")


@pytest.mark.container
def test_a_head_recognised_only_with_crlf_is_told_of_the_texts_bare_lf(checked):
    check = checked["crlf-only"]
    assert check.process.returncode == 1, out(check)
    assert check.verdicts()["starts"] == "DIFFERS"
    measured = profile(check)
    assert (measured["answers_text_request"], measured["answers_crlf"]) == (False, True)
    assert measured["model"] == PER_CONNECTION
    assert check.observed("starts").startswith("your server answered a CRLF request but not the text's own")
    assert diagnosis(check, "starts")["rules"][0] == "no-bare-lf"
    assert "RFC 9112 section 2.2 lets a server accept a bare LF" in row(check, "starts")["fix"][0]
    assert "parent" not in " ".join(row(check, "starts")["fix"])


@pytest.mark.container
@pytest.mark.parametrize("name,model", [("threads", THREADS), ("asyncio", ONE_PROCESS)])
def test_a_correct_server_that_forks_nothing_behaves_and_is_told_why_the_lesson_does_not_apply(checked, name, model):
    check = checked[name]
    assert check.process.returncode == 0, out(check)
    assert set(check.verdicts().values()) == {BEHAVES}
    measured = profile(check)
    assert measured["model"] == model
    if model == THREADS:
        assert measured["peak_threads"] >= 13 and measured["peak_processes"] == 1, measured
    else:
        assert measured["peak_processes"] == 1 and measured["peak_threads"] <= 2, measured
    assert measured["reaping"] == "nothing to reap: it forks no child per connection"
    note = row(check, "client-hang")["note"]
    assert note.startswith(f"the lesson here is about children (keeps-copy); your server forks none ({model})")
    printed = " ".join(check.process.stdout.split())
    assert f"model {model}" in printed and "your server (measured before the experiments):" in printed


@pytest.mark.container
def test_sigchld_set_to_sig_ign_is_named_and_behaves(checked):
    check = checked["sig-ign"]
    assert check.process.returncode == 0, out(check)
    measured = profile(check)
    assert measured["model"] == PER_CONNECTION and measured["sigchld"] == "ignored"
    assert measured["reaping"].startswith("SIGCHLD set to SIG_IGN: the kernel reaps its children")
    assert measured["zombies_after"] == 0


@pytest.mark.container
def test_a_double_fork_under_pid_1_leaves_its_grandchildren_as_zombies(checked):
    check = checked["double-fork"]
    assert check.process.returncode == 1, out(check)
    assert check.verdicts()["starts"] == "DIFFERS"
    measured = profile(check)
    assert measured["model"] == PER_CONNECTION and measured["sigchld"] == "default"
    assert measured["zombies_after"] >= 16, measured
    assert f"held {measured['zombies_after']} zombies; the text's 3g reaps every one" in check.observed("starts")
    assert diagnosis(check, "starts")["rules"][0] == "never-waits"


@pytest.mark.container
def test_a_fixed_pool_of_pre_forked_workers_is_named_a_fixed_pool(checked):
    check = checked["pool"]
    assert check.process.returncode == 0, out(check)
    assert set(check.verdicts().values()) == {BEHAVES}
    measured = profile(check)
    # Four workers and their parent, before and while 16 connections were held: it does not grow with them.
    assert measured["model"] == POOL
    assert measured["idle_processes"] == measured["peak_processes"] == 5, measured
    assert measured["model_said"].startswith(f"{POOL} of 5 processes")
    assert measured["reaping"] == "nothing to reap: it forks no child per connection"
    note = row(check, "client-hang")["note"]
    assert note.startswith(f"the lesson here is about children (keeps-copy); your server forks no child per "
                           f"connection ({POOL})")
    assert "its connections were spread over its pool of 5 processes" in note
