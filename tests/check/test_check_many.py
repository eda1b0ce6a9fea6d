"""`lbaws check FILE... | DIR`: each file in a run of its own, a folder of reports per file, a summary at
the top, JUnit XML with one testcase per file x scenario, and nothing left after Ctrl-C."""
import json
import re
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import docker
import pytest

from commands import check_many
from scenarios.reports import check_junit, check_summary
from lab.inventory import RUN_LABEL
from scenarios.catalog.lessons import KEEPS_COPY

from checking import LBAWS, ROOT, SERVERS

RUN_ID = re.compile(r"labelled org\.lbaws-lab\.run=(\S+?),")


def rows():
    good = {"scenario": "client-hang", "verdict": "BEHAVES AS THE TEXT'S 3G", "agrees": True, "outcome": "reproduced",
            "observed": "fine", "duration_s": 20.0}
    bad = dict(good, verdict="DIFFERS", agrees=False, outcome="not-reproduced", observed="your server hung",
               fix=["the fault: the fix"])
    broken = dict(good, verdict="ERROR", agrees=False, outcome="error", observed="the judge failed")
    return [{"label": "a.py", "scenarios": [good, bad]}, {"label": "b.py", "scenarios": [good, broken]},
            {"label": "c.py", "refused": "c.py:3: does not compile under Python 3"}]


def test_the_class_table_has_a_column_for_each_files_measured_profile():
    scenarios = [dict(s, report=f"/reports/x/{s['scenario']}/report.json") for s in rows()[0]["scenarios"]]
    profiled = [{"label": "threads.py", "stage": "3g", "agrees": True, "scenarios": scenarios[:1],
                 "profile": {"model": "a thread per connection", "peak_processes": 1, "peak_threads": 17,
                             "answers_text_request": True}},
                {"label": "crlf.py", "stage": "3g", "agrees": False, "scenarios": scenarios[1:],
                 "profile": {"model": "a child per connection", "peak_processes": 17, "peak_threads": 17,
                             "answers_text_request": False}}]
    lines = check_many.table(profiled).splitlines()
    assert lines[0].split() == ["file", "stage", "your", "server", "behaves", "differs", "in"]
    assert lines[1].split() == ["threads.py", "3g", "a", "thread", "per", "connection", "(1p/17t)", "1/1", "-"]
    assert "a child per connection (17p/17t), no bare-LF" in lines[2] and lines[2].endswith("client-hang")
    assert "| crlf.py | 3g | a child per connection (17p/17t), no bare-LF | [client-hang]" in check_summary.markdown(profiled)


def test_junit_has_a_testcase_per_file_and_scenario_with_the_explanation_as_failure(tmp_path):
    root = ET.parse(check_junit.write(rows(), tmp_path / "out" / "junit.xml")).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "2", "1")
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["a.py x client-hang"] * 2 + ["b.py x client-hang"] * 2 + ["c.py x starts"]
    failure = cases[1].find("failure")
    assert failure.get("message") == "your server hung Fix: the fault: the fix"
    assert cases[3].find("error").get("type") == "ERROR" and cases[0].find("failure") is None


def test_report_folders_are_named_after_each_file_and_never_shared():
    names = check_many.folder_names([Path("a/webserver3g.py"), Path("b/webserver3g.py"), Path("Classy.v2.py")])
    assert list(names.values()) == ["webserver3g", "webserver3g-2", "Classy.v2"]


def check_folder(tmp_path, helper=False):
    folder = tmp_path / "mine"
    folder.mkdir()
    shutil.copy(SERVERS / "webserver3g.py", folder / "webserver3g.py")
    shutil.copy(SERVERS / "no_close_webserver3g.py", folder / "no_close_webserver3g.py")
    if helper:
        (folder / "helpers.py").write_text("GREETING = 'hi'\n")  # names no stage: skipped, and said so
    return folder


def leftovers(reports):
    runs = {run for log in reports.glob("*/check.log") for run in RUN_ID.findall(log.read_text())}
    engine = docker.from_env()
    # The listing itself, not an inspect per container, which one removed meanwhile turns into NotFound.
    return runs, [name.lstrip("/") for run in runs
                  for c in engine.api.containers(all=True, filters={"label": f"{RUN_LABEL}={run}"})
                  for name in c["Names"]]


@pytest.mark.container
@pytest.mark.timeout(900)
def test_a_folder_is_checked_file_by_file_with_a_summary_and_junit(tmp_path):
    folder, reports, junit = check_folder(tmp_path), tmp_path / "reports", tmp_path / "junit.xml"
    result = subprocess.run([LBAWS, "check", str(folder), "--stage", "3g", "--scenario", "client-hang",
                             "--jobs", "2", "--reports", str(reports), "--junit", str(junit)],
                            capture_output=True, text=True, timeout=800, cwd=ROOT)
    assert result.returncode == 1, result.stdout + result.stderr
    summary = json.loads((reports / "summary.json").read_text())
    by_file = {row["label"]: row for row in summary["files"]}
    assert by_file["webserver3g.py"]["agrees"] is True and by_file["no_close_webserver3g.py"]["agrees"] is False
    assert (reports / "webserver3g" / "client-hang" / "report.json").exists()
    assert (reports / "no_close_webserver3g" / "summary.json").exists()
    # The class summary profiles each file: its process model, with the processes and threads it held.
    assert re.search(r"\| no_close_webserver3g\.py \| 3g \| a child per connection \(1[6-9]p/1[6-9]t\) \| \[client-hang\]",
                     (reports / "summary.md").read_text())
    assert by_file["webserver3g.py"]["profile"]["model"] == "a child per connection"
    assert re.search(r"webserver3g\.py +3g +a child per connection \(1[6-9]p/1[6-9]t\) +2/2", result.stdout), result.stdout
    assert "1/2 files behave as their stage" in result.stdout
    # The class's page, named on the console, links each file's experiments to their own pages.
    assert f"page: {reports / 'report.html'}" in result.stdout
    assert 'href="no_close_webserver3g/client-hang/report.html"' in (reports / "report.html").read_text()
    assert (reports / "no_close_webserver3g" / "client-hang" / "report.html").exists()
    assert (reports / "no_close_webserver3g" / "report.html").exists()
    root = ET.parse(junit).getroot()
    names = sorted(c.get("name") for c in root.iter("testcase"))
    assert "no_close_webserver3g.py x client-hang" in names and "webserver3g.py x starts" in names
    failures = [c for c in root.iter("testcase") if c.find("failure") is not None]
    messages = " ".join(c.find("failure").get("message") for c in failures)
    assert "your server (in 3g's place)" in messages and KEEPS_COPY.fix in messages
    assert leftovers(reports)[1] == []


@pytest.mark.container
@pytest.mark.timeout(300)
def test_ctrl_c_stops_every_files_check_and_leaves_nothing(tmp_path):
    folder, reports = check_folder(tmp_path, helper=True), tmp_path / "reports"
    process = subprocess.Popen([LBAWS, "check", str(folder), "--scenario", "waitpid-reaper", "--jobs", "2",
                                "--reports", str(reports)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=ROOT)
    def both_started():
        # Two runs named (one per file) and containers up: one run's client and server alone are two.
        runs, names = leftovers(reports)
        return len(runs) >= 2 and bool(names)

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not both_started():
        time.sleep(0.5)
    assert both_started(), "the two files' checks did not both start their containers"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=180)
    assert process.returncode == 130, out + err
    assert "interrupted" in err
    runs, left = leftovers(reports)
    assert len(runs) >= 2 and left == []
    assert "helpers.py: skipped, its name says no stage" in out


def test_a_files_summary_and_page_open_with_its_profile_and_say_the_diagnosis_as_the_terminal(tmp_path):
    from scenarios.judging.profile import THREADS, Profile
    from scenarios.reports import report_html

    measured = Profile(started=True, model=THREADS, model_said="a thread per connection: one process with 17 threads",
                       answers="HTTP/1.1 200 OK; no length: the body ends at close; closes after the response",
                       answers_text_request=True, answers_crlf=True, reaping="nothing to reap").as_dict()
    told = [["diagnosis", "the next client waited while one was served (the text's lesson: 3b)"],
            ["fix", "the text's 3c forks"]]
    scenario = dict(rows()[0]["scenarios"][1], report=str(tmp_path / "client-hang" / "report.json"), told=told)
    summary = [{"label": "threads.py", "stage": "3g", "agrees": False, "profile": measured, "scenarios": [scenario]}]
    markdown = check_summary.markdown(summary)
    top = markdown.split("| file |")[0]
    assert "**threads.py**, your server (measured before the experiments):" in top
    assert "- model: a thread per connection: one process with 17 threads" in top
    assert "- requests: answers the text's request (bare LF line endings) and a CRLF one" in top
    assert ("<br>**Diagnosis:** the next client waited while one was served (the text's lesson: 3b)"
            "<br>**Fix:** the text's 3c forks |") in markdown
    page = report_html.check_page(summary, tmp_path)
    assert page.index("<dt>model</dt><dd>a thread per connection: one process with 17 threads</dd>") < page.index("<table>")
    assert "<strong>Diagnosis:</strong> the next client waited while one was served" in page
