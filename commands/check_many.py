"""`lbaws check FILE... | DIR`: a class of files, each judged in a run of its own.

Each file is one `lbaws check FILE` in a child process (its own containers, its own cleanup), its
reports in a folder named after it under --reports; --jobs of them side by side. Then a table, and
summary.md / summary.json (and --junit) at the top of that folder. Ctrl-C or SIGTERM reaches every
child, which removes its own run's containers before this command returns.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from commands import check_junit
from commands.common import EXIT_ERROR, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from scenarios.substitute import CheckError, read_server_file, stage_for

STOP_GRACE = 120.0  # seconds a child may take to remove its containers after Ctrl-C


def default_jobs() -> int:
    """Side by side where the machine allows: one check per two cores, at least one."""
    return max(1, (os.cpu_count() or 2) // 2)


def expand(paths: list) -> tuple:
    """(files to check, lines about files of a folder that name no stage): a folder gives its *.py."""
    files, skipped = [], []
    for path in map(Path, paths):
        if path.is_dir():
            for found in sorted(path.glob("*.py")):
                files.append((found, True))
        else:
            files.append((path, False))
    return files, skipped


def folder_names(files: list) -> dict:
    """A report folder per file, named after it; a second file of the same name gets -2."""
    names, taken = {}, set()
    for path in files:
        base = path.name[:-3] if path.name.endswith(".py") else path.name
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        names[path] = name
    return names


class Child:
    """One file's check, as a child process writing its terminal output to check.log."""

    def __init__(self, path: Path, label: str, folder: Path, argv: list):
        self.path, self.label, self.folder, self.argv = path, label, folder, argv
        self.process = None
        self.code = None
        self.seconds = 0.0
        self.interrupted = False

    def run(self, stopping: threading.Event) -> None:
        if stopping.is_set():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with open(self.folder / "check.log", "w") as log:
            # Its own process group: a terminal's Ctrl-C reaches it through us, once, in order.
            self.process = subprocess.Popen([sys.executable, "-m", "commands.check", *self.argv],
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            self.code = self.process.wait()
        self.seconds = round(time.monotonic() - started, 1)

    def interrupt(self) -> None:
        """One SIGINT, as one Ctrl-C: a second could cut into the cleanup it starts."""
        if not self.interrupted and self.process is not None and self.process.poll() is None:
            self.interrupted = True
            self.process.send_signal(signal.SIGINT)

    def summary(self) -> dict | None:
        try:
            return json.loads((self.folder / "summary.json").read_text())
        except (OSError, ValueError):
            return None

    def last_line(self) -> str:
        try:
            lines = [line for line in (self.folder / "check.log").read_text().splitlines() if line.strip()]
        except OSError:
            return ""
        return lines[-1] if lines else ""


def plan(args) -> tuple:
    """(children, refused rows, skipped lines), or an exit status after one line."""
    files, skipped = expand(args.file)
    if not files:
        print(f"lbaws check: no *.py file in {', '.join(args.file)}", file=sys.stderr)
        return EXIT_USAGE
    names = folder_names([path for path, _ in files])
    children, refused = [], []
    for path, from_folder in files:
        try:
            read_server_file(path)
            stage = stage_for(path, args.stage)
        except CheckError as exc:
            if from_folder and not args.stage and "cannot tell the stage" in str(exc):
                skipped.append(f"{path}: skipped, its name says no stage (give --stage to check it)")
                continue
            refused.append({"label": path.name, "file": str(path), "refused": str(exc), "agrees": False})
            continue
        folder = args.reports / names[path]
        argv = [str(path), "--stage", stage.name, "--reports", str(folder)]
        for scenario in args.scenario:
            argv += ["--scenario", scenario]
        children.append(Child(path, path.name, folder, argv))
    return children, refused, skipped


def run_all(children: list, jobs: int, out) -> bool:
    """Every child, `jobs` at a time; False when interrupted (every child then stopped and cleaned up)."""
    queue, lock, stopping = list(children), threading.Lock(), threading.Event()

    def worker():
        while not stopping.is_set():
            with lock:
                if not queue:
                    return
                child = queue.pop(0)
            child.run(stopping)
            if child.code is not None:
                print(f"  {child.label}: exit {child.code} in {child.seconds:g}s ({child.last_line()})",
                      file=out, flush=True)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(jobs, len(children)) or 1)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
        return True
    except KeyboardInterrupt:
        stopping.set()
        deadline = time.monotonic() + STOP_GRACE
        # Until every worker is done: a child started just as Ctrl-C came still gets its SIGINT.
        while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline:
            for child in children:
                child.interrupt()
            time.sleep(0.2)
        for child in children:
            if child.process is not None and child.process.poll() is None:
                child.process.kill()
        return False


def file_rows(children: list, refused: list) -> list:
    rows = list(refused)
    for child in children:
        summary = child.summary()
        row = {"label": child.label, "file": str(child.path), "report": str(child.folder), "exit": child.code,
               "seconds": child.seconds}
        if summary is None:
            row.update(agrees=False, refused=f"the check ended with exit {child.code} before its summary: "
                                             f"{child.last_line() or 'no output'}")
        else:
            row.update(stage=summary["stage"], agrees=summary["agrees"] and child.code == EXIT_OK,
                       profile=summary.get("profile"),
                       scenarios=summary["scenarios"], sha256=summary["sha256"])
        rows.append(row)
    return rows


def table(rows: list) -> str:
    from scenarios.profile import column

    width = max([len(r["label"]) for r in rows] + [4])
    models = {r["label"]: column(r.get("profile")) for r in rows}
    mwidth = max([len(m) for m in models.values()] + [11])
    lines = [f"{'file':<{width}}  {'stage':<6} {'your server':<{mwidth}} {'behaves':>8}  differs in"]
    for r in rows:
        scenarios = r.get("scenarios", [])
        agree = sum(1 for s in scenarios if s["agrees"])
        differs = ", ".join(s["scenario"] for s in scenarios if not s["agrees"]) or r.get("refused", "")
        lines.append(f"{r['label']:<{width}}  {r.get('stage', '-'):<6} {models[r['label']]:<{mwidth}} "
                     f"{f'{agree}/{len(scenarios)}':>8}  "
                     f"{differs or '-'}")
    lines.append(f"{sum(1 for r in rows if r['agrees'])}/{len(rows)} files behave as their stage")
    return "\n".join(lines)


def markdown(rows: list) -> str:
    from scenarios.profile import column

    lines = ["# lbaws check", "", "| file | stage | your server | scenario | verdict | what your server did |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        model = column(r.get("profile"))
        if r.get("refused"):
            lines.append(f"| {r['label']} | {r.get('stage', '-')} | - | - | CANNOT RUN | {r['refused']} |")
        for s in r.get("scenarios", []):
            said = s["observed"].replace("|", "\\|")
            fixes = "".join(f"<br>**Fix:** {fix}" for fix in s.get("fix", []))
            lines.append(f"| {r['label']} | {r['stage']} | {model} | [{s['scenario']}]({Path(s['report']).parent}/report.md) "
                         f"| {s['verdict']} | {said}{fixes} |")
    lines += ["", f"{sum(1 for r in rows if r['agrees'])}/{len(rows)} files behave as their stage.", ""]
    return "\n".join(lines)


def run(args, out) -> int:
    planned = plan(args)
    if isinstance(planned, int):
        return planned
    children, refused, skipped = planned
    jobs = args.jobs or default_jobs()
    print(f"checking {len(children)} file{'s' if len(children) != 1 else ''}, {jobs} at a time; reports in "
          f"{args.reports}", file=out, flush=True)
    for line in skipped + [f"{r['file']}: {r['refused']}" for r in refused]:
        print(f"  {line}", file=out)
    if not run_all(children, jobs, out):
        print("lbaws check: interrupted; every file's containers and network were removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    rows = file_rows(children, refused)
    args.reports.mkdir(parents=True, exist_ok=True)
    summary = {"agrees": all(r["agrees"] for r in rows), "files": rows, "skipped": skipped}
    (args.reports / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (args.reports / "summary.md").write_text(markdown(rows))
    if args.junit:
        check_junit.write(rows, args.junit)
    print(table(rows), file=out)
    print(f"summary: {args.reports / 'summary.md'}", file=out)
    if any(s.get("outcome") == "error" for r in rows for s in r.get("scenarios", [])):
        return EXIT_ERROR
    return EXIT_OK if summary["agrees"] else EXIT_FAILED
