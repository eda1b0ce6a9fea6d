"""A new run of a scenario keeps the last one's files under past/RUN_ID, so no run is overwritten."""
import json

from scenarios.reports import past_runs


def write_run(folder, run_id, extra=("report.md", "timeline.png")):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "samples.ndjson").write_text(json.dumps({"kind": "run", "run_id": run_id}) + "\n")
    for name in extra:
        (folder / name).write_text(run_id)


def test_the_last_runs_files_move_under_past_named_by_its_run_id(tmp_path):
    folder = tmp_path / "fd-exhaustion"
    write_run(folder, "fd-exhaustion-20261203T0700-1")
    (folder / "keep").mkdir()
    moved = past_runs.set_aside(folder)
    assert moved == folder / "past" / "fd-exhaustion-20261203T0700-1"
    assert sorted(p.name for p in moved.iterdir()) == ["report.md", "samples.ndjson", "timeline.png"]
    assert sorted(p.name for p in folder.iterdir()) == ["keep", "past"], "sub-folders stay where they are"


def test_a_run_known_only_by_its_report_and_the_same_id_twice(tmp_path):
    folder = tmp_path / "zombies"
    folder.mkdir()
    (folder / "report.json").write_text(json.dumps({"run_id": "zombies-7"}))
    assert past_runs.set_aside(folder).name == "zombies-7"
    (folder / "report.json").write_text(json.dumps({"run_id": "zombies-7"}))
    assert past_runs.set_aside(folder).name == "zombies-7-2"
    assert sorted(p.name for p in (folder / "past").iterdir()) == ["zombies-7", "zombies-7-2"]


def test_nothing_to_set_aside_in_a_new_or_empty_folder(tmp_path):
    assert past_runs.set_aside(tmp_path / "never-ran") is None
    (tmp_path / "empty").mkdir()
    assert past_runs.set_aside(tmp_path / "empty") is None
    assert not (tmp_path / "empty" / "past").exists()
