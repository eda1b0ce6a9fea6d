"""Every run under a reports folder, and every check, read from the files the harness leaves.

A run is a folder holding samples.ndjson or report.json (reports/NAME, or reports/check/STEM/NAME for
the scenarios of `lbaws check`, and NAME/past/RUN_ID for the runs before the last); a check is a folder
whose summary.json names the file it checked. A run is known by its folder relative to the reports
folder, which is also its address on the page.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from watch import samples

SAMPLES = "samples.ndjson"  # scenarios.reports.samples_file.NAME: watch/ reads the files, never the harness
REPORT = "report.json"
SUMMARY = "summary.json"
PAST = "past"  # scenarios.reports.past_runs.PAST
DEPTH = 6  # reports/check/STEM/NAME/past/RUN_ID is the deepest the harness writes (scenarios.reports.past_runs)
QUIET = 30.0  # seconds without a new line after which a run with no verdict is no longer "running"


class NotFound(Exception):
    """No run or check at that address under the reports folder."""


def folder_of(reports: Path, ident: str) -> Path:
    """The folder of a run or check named by its address; NotFound for anything outside `reports`."""
    root = reports.resolve()
    folder = (root / ident).resolve()
    if not ident or folder == root or root not in folder.parents:
        raise NotFound(ident)
    if not folder.is_dir():
        raise NotFound(ident)
    return folder


def _json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _folders(reports: Path):
    level = [reports]
    for _ in range(DEPTH):
        level = sorted(child for folder in level for child in folder.iterdir()
                       if child.is_dir() and not child.name.startswith("."))
        yield from level


def checked_file(reports: Path, folder: Path) -> str | None:
    """The file a check judged, when this run is one of its scenarios (or an earlier run of one)."""
    scenario = folder.parent.parent if folder.parent.name == PAST else folder
    summary = _json(scenario.parent / SUMMARY)
    if summary and isinstance(summary.get("file"), str):
        return summary["file"]
    return None


def run(reports: Path, folder: Path) -> dict | None:
    """One run's row: what ran, its verdict, when and how long; None when the folder holds no run."""
    ndjson, report_path = folder / SAMPLES, folder / REPORT
    header = samples.first(ndjson, "run") if ndjson.exists() else None
    report = _json(report_path) if report_path.exists() else None
    if header is None and report is None:
        return None
    # A report.json of an earlier run than the samples' is stale: the new run has not written its own yet.
    if header is not None and report is not None and report.get("run_id") != header.get("run_id"):
        report = None
    verdict = samples.last(ndjson, "verdict") if header is not None else None
    if verdict is None and report is not None:
        verdict = report.get("verdict")
    source = header or report
    modified = max(p.stat().st_mtime for p in (ndjson, report_path) if p.exists())
    state = "done" if verdict else "running" if time.time() - modified < QUIET else "unfinished"
    return {
        "id": folder.relative_to(reports).as_posix(),
        "scenario": source.get("scenario"),
        "summary": source.get("summary"),
        "run_id": source.get("run_id"),
        "checked_file": checked_file(reports, folder),
        "verdict": (verdict or {}).get("word"),
        "verdict_value": (verdict or {}).get("verdict"),
        "started": source.get("started"),
        "started_wall": header.get("wall") if header else report_path.stat().st_mtime,
        "duration_s": (verdict or {}).get("duration_s", (report or {}).get("duration_s")),
        "state": state,
        "samples": ndjson.exists(),
        "report": report is not None,
    }


def check(reports: Path, folder: Path) -> dict | None:
    """A check's row: the file, its stage, whether it agrees, and its scenarios' runs."""
    summary = _json(folder / SUMMARY)
    if not summary or not isinstance(summary.get("file"), str):
        return None
    runs = [row for row in (run(reports, child) for child in sorted(folder.iterdir()) if child.is_dir()) if row]
    return {"id": folder.relative_to(reports).as_posix(), "file": summary["file"], "stage": summary.get("stage"),
            "sha256": summary.get("sha256"), "agrees": summary.get("agrees"),
            "scenarios": summary.get("scenarios", []), "not_run": summary.get("not_run", {}), "runs": runs,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime((folder / SUMMARY).stat().st_mtime))}


def listing(reports: Path) -> dict:
    """{"runs": newest first, "checks": newest first} under `reports`."""
    runs, checks = [], []
    if reports.is_dir():
        for folder in _folders(reports):
            row = run(reports, folder)
            if row:
                runs.append(row)
            found = check(reports, folder)
            if found:
                checks.append(found)
    runs.sort(key=lambda row: row["started_wall"] or 0, reverse=True)
    checks.sort(key=lambda row: row["date"], reverse=True)
    return {"reports": str(reports), "runs": runs, "checks": checks}
