"""report.json, report.md, timeline.png and the summary, written from recorded observations."""
import json

from scenarios.reports import report
from scenarios.catalog import fd_exhaustion
from scenarios.executor.runner import Options, RunResult
from scenarios.vocabulary.verdict import Verdict

from recorded import fd_exhaustion as fd_obs


def result(tmp_path, obs):
    verdict = fd_exhaustion.SCENARIO.judge(obs)
    return RunResult(fd_exhaustion.SCENARIO, "fd-exhaustion-abc123", verdict, obs, started=1700000000.0,
                     duration_s=12.5, options=Options(scale=0.1, reports=tmp_path))


def test_a_run_writes_json_markdown_and_a_timeline(tmp_path):
    folder = report.write(result(tmp_path, fd_obs()))
    data = json.loads((folder / "report.json").read_text())
    assert data["scenario"] == "fd-exhaustion"
    assert data["verdict"]["word"] == "REPRODUCED"
    assert data["limits"]["3d"]["nofile"] == 256
    assert data["verdict"]["numbers"]["accepted"] == 252
    assert data["observations"]["3d"][0]["exit_code"] == 1
    assert "Too many open files" in data["observations"]["3d"][0]["logs_tail"]
    markdown = (folder / "report.md").read_text()
    assert markdown.startswith("# fd-exhaustion: REPRODUCED")
    assert "OSError: [Errno 24] Too many open files" in markdown
    assert (folder / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_verdict_block_says_prediction_observation_and_why(tmp_path):
    block = report.verdict_block(result(tmp_path, fd_obs(fixed_died=True)))
    first, *rest = block.splitlines()
    assert first == "fd-exhaustion: NOT REPRODUCED  (12.5s)"
    labels = [line.split()[0] for line in rest if not line.startswith(" " * 13)]
    assert labels == ["predicted", "observed", "why"]


def test_summary_counts_and_totals(tmp_path):
    rows = [{"scenario": "hello", "verdict": Verdict.REPRODUCED, "duration_s": 3.0},
            {"scenario": "zombies", "verdict": Verdict.NOT_REPRODUCED, "duration_s": 4.5}]
    table = report.summary_table(rows)
    assert table.splitlines()[-1] == "1/2 reproduced in 7.5s"
    data = json.loads(report.write_summary(rows, tmp_path).read_text())
    assert (data["reproduced"], data["total"], data["duration_s"]) == (1, 2, 7.5)
    assert [row["verdict"] for row in data["scenarios"]] == ["REPRODUCED", "NOT REPRODUCED"]


def test_a_checks_report_says_its_diagnosis_as_the_terminal_does_in_markdown_json_and_html(tmp_path):
    told = [("diagnosis", "accept() failed with EMFILE: the descriptors were held by the parent"),
            ("fix", "3d's fix: client_connection.close() in the parent")]
    folder = report.write(result(tmp_path, fd_obs(fixed_died=True)), told=told)
    markdown = (folder / "report.md").read_text()
    assert "**Diagnosis.** accept() failed with EMFILE: the descriptors were held by the parent" in markdown
    assert "**The fix.** 3d's fix: client_connection.close() in the parent" in markdown
    assert json.loads((folder / "report.json").read_text())["verdict"]["told"][1]["label"] == "fix"
    page = (folder / "report.html").read_text()
    assert "<dt>Diagnosis</dt><dd>accept() failed with EMFILE: the descriptors were held by the parent</dd>" in page
    assert "<dt>The fix</dt><dd>3d&#x27;s fix: client_connection.close() in the parent</dd>" in page


def test_outside_a_check_the_report_says_the_judges_lessons(tmp_path):
    folder = report.write(result(tmp_path, fd_obs()))
    assert "**Diagnosis.**" not in (folder / "report.md").read_text()
    assert json.loads((folder / "report.json").read_text())["verdict"]["told"] is None
