"""A run's report folder is the scenario's name, so the next run of it would overwrite the last: before
it begins, the files of the run already there move to past/RUN_ID beside it, where the archive finds them."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from scenarios.reports.samples_file import NAME as SAMPLES

PAST = "past"
REPORT = "report.json"


def run_id_of(folder: Path) -> str | None:
    """The id of the run whose files are in folder: from its samples' first line, else its report."""
    try:
        with open(folder / SAMPLES, encoding="utf-8") as samples:
            first = json.loads(samples.readline())
        if first.get("kind") == "run" and first.get("run_id"):
            return str(first["run_id"])
    except (OSError, ValueError, AttributeError):
        pass
    try:
        found = json.loads((folder / REPORT).read_text()).get("run_id")
        return str(found) if found else None
    except (OSError, ValueError, AttributeError):
        return None


def set_aside(folder: Path) -> Path | None:
    """Move the files of the run in folder (not its sub-folders) to folder/past/ID; None when there is none."""
    written = [path for path in (folder / SAMPLES, folder / REPORT) if path.exists()]
    if not written:
        return None
    # A run whose files say nothing of their id is named by when it was written.
    ident = run_id_of(folder) or time.strftime("%Y%m%dT%H%M%S", time.localtime(written[0].stat().st_mtime))
    target = folder / PAST / ident
    n = 1
    while target.exists():  # the same id twice: a folder copied by hand, say
        n += 1
        target = folder / PAST / f"{ident}-{n}"
    target.mkdir(parents=True)
    for item in folder.iterdir():
        if item.is_file():
            shutil.move(str(item), target / item.name)
    return target
