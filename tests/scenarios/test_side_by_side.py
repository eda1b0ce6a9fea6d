"""Experiments side by side: `lbaws scenario NAME... --jobs 2 --repeat 2`, the short version of the stress
command (`lbaws scenario --all --jobs 3 --repeat 5`). Real runs in real containers: the table counts the
runs that reproduced per scenario, every run has its report, the runs beside each other had UIDs and
networks of their own, and nothing is left behind."""
import json
import re
import signal
import subprocess
import time

import pytest

from test_scenarios import RUN, leftovers

CHEAP = ("hello", "concurrent-fork")  # two short experiments: a few seconds each


@pytest.mark.container
@pytest.mark.scenario
@pytest.mark.timeout(600)
def test_two_scenarios_twice_two_at_a_time_tally_each_run(run_cli, tmp_path):
    result = run_cli(*CHEAP, "--fast", "--jobs", "2", "--repeat", "2", "--reports", str(tmp_path), timeout=500)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "4 runs, 2 at a time" in out
    # The table: one line per scenario with its count of runs that reproduced, then the whole.
    assert re.search(r"^hello\s+2/2\s+-$", out, re.M), out
    assert re.search(r"^concurrent-fork\s+2/2\s+-$", out, re.M), out
    assert "4/4 runs reproduced (2 of each)" in out
    # Where the time went: each run's own time, and the wall time of the whole at the given jobs.
    own = re.search(r"4 experiments: ([\d.]+)s of their own, ([\d.]+)s wall, 2 at a time", out)
    assert own, out
    summary = json.loads((tmp_path / "summary.json").read_text())
    runs = summary["scenarios"]
    assert sorted((row["scenario"], row["run"]) for row in runs) == sorted(
        (name, run) for name in CHEAP for run in (1, 2))
    assert all(row["verdict"] == "REPRODUCED" for row in runs)
    assert summary["wall_s"] == float(own.group(2))
    assert summary["duration_s"] == pytest.approx(float(own.group(1)), abs=0.1)
    # Each scenario's last run in its folder, the run before it set aside under past/, none shared.
    run_ids = set()
    uids = {}
    for name in CHEAP:
        report = json.loads((tmp_path / name / "report.json").read_text())
        past = list((tmp_path / name / "past").iterdir())
        assert len(past) == 1, past
        earlier = json.loads((past[0] / "report.json").read_text())
        for each in (report, earlier):
            run_ids.add(each["run_id"])
            for records in each["observations"].values():
                for record in records:
                    uids.setdefault(record["uid"], []).append(each["run_id"])
    assert len(run_ids) == 4
    assert all(len(set(owners)) == 1 for uid, owners in uids.items() if uid), uids
    assert all(leftovers(run_id) == [] for run_id in run_ids)


@pytest.mark.container
@pytest.mark.timeout(240)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_runs_side_by_side_removes_every_runs_containers(run_cli, tmp_path, signum):
    # Unscaled, 3b and 3c sleep 60 s: both runs are still under way when the signal comes.
    process = subprocess.Popen([*run_cli.command, "iterative-blocking", "concurrent-fork", "--jobs", "2",
                                "--reports", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    run_ids, deadline = set(), time.monotonic() + 120
    try:
        for line in process.stdout:
            run_ids.update(RUN.findall(line))
            if len(run_ids) == 2 and all(leftovers(run_id) for run_id in run_ids) or time.monotonic() > deadline:
                break
        assert len(run_ids) == 2 and all(leftovers(run_id) for run_id in run_ids), "the two runs never both started"
        process.send_signal(signum)
        _, err = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1] == "lbaws scenario: interrupted; this run's containers and network were removed"
    assert [leftovers(run_id) for run_id in sorted(run_ids)] == [[], []]
    assert not (tmp_path / "summary.json").exists()
