"""`lbaws check` on learner-style server files (tests/servers/, written for these tests) that one quiet
experiment decides (starts, client-hang, hello, frameworks): the reason a file differs, named; and the
files the lab cannot run, refused in one line.

These experiments do not flood the server, so they run beside the rest of the suite; the checks by
experiments that do are in test_check.py.
"""
import os
import shutil
import subprocess

import pytest

from checking import LBAWS, ROOT, SERVERS, out, prepared, row, run_all
from scenarios.catalog.lessons import KEEPS_COPY

# name -> the `lbaws check` arguments after the file.
CHECKS = {
    "no-close-3g": ("no_close_webserver3g.py", "--scenario", "client-hang"),
    "webserver2": ("webserver2.py",),
    "headerless-2": ("{tmp}/headerless_webserver2.py",),
    "webserver1": ("webserver1.py",),
    "stringio": ("stringio_webserver3g.py", "--scenario", "client-hang"),
    "wrong-port": ("wrong_port_webserver3g.py", "--scenario", "client-hang"),
    "loopback": ("loopback_webserver3g.py", "--scenario", "client-hang"),
    "hangs": ("hangs_webserver3g.py", "--scenario", "client-hang"),
    # os.fork() in a bare loop that keeps the parent's copy, with a Content-Length.
    "keeps-copy": ("forks_keeps_copy.py", "--stage", "3g", "--scenario", "client-hang"),
}


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """Every check of CHECKS, run as a reader runs it."""
    results = prepared(CHECKS, tmp_path_factory)
    # webserver2.py as a reader who forgot the app's headers would write it: status line and Server only.
    good = (SERVERS / "webserver2.py").read_text()
    forgetful = good.replace("['{}: {}'.format(k, v) for k, v in headers]", "['Server: ReadersWSGI 0.1']")
    assert forgetful != good
    (results["headerless-2"].reports / "headerless_webserver2.py").write_text(forgetful)
    return run_all(results)


@pytest.mark.container
def test_keeping_the_parents_copy_differs_from_3g_because_curl_hangs(checked):
    check = checked["no-close-3g"]
    assert check.process.returncode == 1, out(check)
    assert check.verdicts()["client-hang"] == "DIFFERS"
    observed = check.observed("client-hang")
    assert observed.startswith("against your server (in 3g's place) curl got status 200 with 'Hello, World!'")
    assert "then hung until its own --max-time 5 (exit 28" in observed and "1 client connection it never closed" in observed
    assert row(check, "client-hang")["fix"] == [KEEPS_COPY.fix]


@pytest.mark.container
def test_a_kept_copy_shows_in_the_sockets_when_content_length_lets_curl_finish(checked):
    check = checked["keeps-copy"]
    assert check.process.returncode == 1, out(check)
    observed = check.observed("client-hang")
    assert observed.startswith("against your server (in 3g's place) curl got status 200 with 'hi there'")
    assert "exited 0" in observed and "1 client connection it never closed" in observed
    assert "told curl its length (Content-Length), so curl could finish without the FIN" in observed
    assert row(check, "client-hang")["fix"] == [KEEPS_COPY.fix]


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


def test_a_wrong_lbaws_jobs_gets_one_line_and_exit_2_before_the_file_is_read():
    result = subprocess.run([LBAWS, "check", str(SERVERS / "webserver3g.py")], capture_output=True, text=True,
                            timeout=60, cwd=ROOT, env=dict(os.environ, LBAWS_JOBS="many"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == "lbaws check: LBAWS_JOBS: 'many' is not a whole number from 1 to 64"


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
