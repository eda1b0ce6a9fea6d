"""Running `lbaws check` as a reader runs it, several files two at a time, for the check tests to read."""
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import docker

from lab.inventory import RUN_LABEL
from lab.runs import files_folder

HERE = Path(__file__).resolve().parent
SERVERS = HERE.parent / "servers"
ROOT = HERE.parents[1]
LBAWS = str(Path(sys.executable).with_name("lbaws")) if Path(sys.executable).with_name("lbaws").exists() \
    else shutil.which("lbaws")
AT_ONCE = 2
# The line every run starts with names the label its containers carry.
RUN_ID = re.compile(r"labelled org\.lbaws-lab\.run=(\S+?),")


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


def prepared(checks, tmp_path_factory):
    """{name: Checked} for each of checks (name -> the arguments after `lbaws check`), not yet run."""
    return {name: Checked(name, args, tmp_path_factory.mktemp(name)) for name, args in checks.items()}


def run_all(results, at_once=AT_ONCE):
    """Run every check, at_once at a time (to keep the machine responsive), and see that none left
    containers or file copies behind."""
    queue = list(results.values())
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                item = queue.pop(0)
            item.run()

    threads = [threading.Thread(target=worker) for _ in range(at_once)]
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


def row(check, scenario):
    return next(r for r in check.summary["scenarios"] if r["scenario"] == scenario)
