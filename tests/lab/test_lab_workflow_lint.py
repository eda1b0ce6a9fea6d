"""The workflows others run and call: actionlint and zizmor, offline, find nothing of medium severity or
above (actions pinned to a commit, no persisted credentials, no template expanded inside `run:`)."""
import json
import subprocess

import pytest
from ruamel.yaml import YAML

from lab.paths import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
BIN = ROOT / ".venv" / "bin"
# The test extra installs both; a bare `pytest` outside the venv finds them on PATH.
ACTIONLINT = str(BIN / "actionlint") if (BIN / "actionlint").exists() else "actionlint"
ZIZMOR = str(BIN / "zizmor") if (BIN / "zizmor").exists() else "zizmor"
CHECKOUT = "actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0"


def actionlint(folder):
    """actionlint's findings on every workflow in folder, as JSON objects."""
    files = sorted(map(str, folder.glob("*.yml")))
    result = subprocess.run([ACTIONLINT, "-format", "{{json .}}", *files], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout or "[]")


def zizmor(folder):
    """zizmor's findings of medium severity or above, at every confidence, without the network."""
    result = subprocess.run([ZIZMOR, "--offline", "--format", "json", "--min-severity", "medium",
                             "--min-confidence", "low", str(folder)], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


def where(finding):
    location = finding["locations"][0]["concrete"]["location"]["start_point"]["row"] + 1
    return f"{finding['ident']} ({finding['determinations']['severity']}) at line {location}"


def test_actionlint_finds_nothing_in_the_workflows():
    assert [f"{f['filepath']}:{f['line']}: {f['message']}" for f in actionlint(WORKFLOWS)] == []


def test_zizmor_finds_nothing_of_medium_severity_or_above_in_the_workflows():
    assert [where(finding) for finding in zizmor(WORKFLOWS)] == []


@pytest.fixture
def careless(tmp_path):
    """scenarios.yml as it was before issue 32: tags, persisted credentials, a matrix value inside run:."""
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    text = (WORKFLOWS / "scenarios.yml").read_text()
    assert CHECKOUT in text and 'lbaws scenario "$SCENARIO"' in text
    text = text.replace(f"{CHECKOUT}\n        with:\n          persist-credentials: false\n", "actions/checkout@v4\n")
    text = text.replace('lbaws scenario "$SCENARIO"', "lbaws scenario ${{ matrix.scenario }}")
    (folder / "scenarios.yml").write_text(text)
    return folder


def test_zizmor_finds_what_a_careless_edit_brings_back(careless):
    idents = {finding["ident"] for finding in zizmor(careless)}
    assert {"unpinned-uses", "artipacked", "template-injection"} <= idents, idents


def test_actionlint_finds_a_step_that_is_no_step(careless):
    path = careless / "scenarios.yml"
    path.write_text(path.read_text().replace("      - name: Build the lab images\n",
                                             "      - name: Build the lab images\n        runs: no\n", 1))
    assert any("runs" in finding["message"] for finding in actionlint(careless))


def test_each_tests_job_runs_make_test_for_its_folders_and_together_they_cover_the_suite():
    workflow = YAML(typ="safe").load((WORKFLOWS / "tests.yml").read_text())
    job = workflow["jobs"]["suite"]
    (step,) = [step for step in job["steps"] if "make test" in step.get("run", "")]
    assert step["run"].strip() == 'make test TESTS="$PATHS"'
    assert step["env"] == {"PATHS": "${{ matrix.paths }}"}
    named = {word for row in job["strategy"]["matrix"]["include"] for word in row["paths"].split()
             if word.startswith("tests/") and "::" not in word}
    tests = ROOT / "tests"
    suite = {f"tests/{path.name}" for path in tests.iterdir()
             if (path.is_dir() and any(path.rglob("test_*.py"))) or (path.is_file() and path.name.startswith("test_"))}
    assert suite - named == set(), "parts of the suite no job runs"


def test_ci_run_is_make_test():
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[-1] == "make test"
