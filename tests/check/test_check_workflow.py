"""The reusable workflow a learner's repository calls, and docs/checking.md's lines that call it."""
import subprocess
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "check-server.yml"
CHECK_JSONSCHEMA = str(ROOT / ".venv" / "bin" / "check-jsonschema")
HEADING = "## Check your server in your own CI"


def readme_caller() -> str:
    """The first indented block under docs/checking.md's CI heading: the learner's workflow file."""
    text = (ROOT / "docs" / "checking.md").read_text()
    lines = text[text.index(HEADING):].splitlines()[1:]
    block, started = [], False
    for line in lines:
        if line.startswith("    "):
            started = True
            block.append(line[4:])
        elif started and line.strip():
            break
    return "\n".join(block) + "\n"


def test_the_readmes_lines_call_the_workflow_with_inputs_it_declares(tmp_path):
    caller = YAML(typ="safe").load(readme_caller())
    declared = YAML(typ="safe").load(WORKFLOW.read_text())
    inputs = declared[True]["workflow_call"]["inputs"] if True in declared else declared["on"]["workflow_call"]["inputs"]
    (job,) = caller["jobs"].values()
    assert job["uses"].split("@")[0].endswith("/.github/workflows/check-server.yml")
    given = set(job["with"])
    assert given <= set(inputs), f"docs/checking.md passes inputs the workflow does not declare: {given - set(inputs)}"
    assert {name for name, spec in inputs.items() if spec.get("required")} <= given
    assert job["uses"].split("/.github/")[0] == job["with"]["lab"], "lab: names the repository uses: calls"
    # The learner's file itself is a valid workflow.
    (tmp_path / "check.yml").write_text(readme_caller())
    result = subprocess.run([CHECK_JSONSCHEMA, "--builtin-schema", "vendor.github-workflows", str(tmp_path / "check.yml"),
                             str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_runs_lbaws_check_with_junit_on_the_callers_path():
    declared = YAML(typ="safe").load(WORKFLOW.read_text())
    steps = declared["jobs"]["check"]["steps"]
    run = next(step for step in steps if step.get("name", "").startswith("Check "))
    assert "lbaws check \"$SERVER_PATH\"" in run["run"] and "--junit" in run["run"]
    assert run["env"]["SERVER_PATH"] == "${{ github.workspace }}/mine/${{ inputs.path }}"
    assert "${STAGE:+--stage \"$STAGE\"}" in run["run"]
