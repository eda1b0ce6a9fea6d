"""`lbaws check FILE... | DIR`: which files a folder gives, a report folder per file, and the class's table
as the terminal prints it. `lbaws check` runs every file's experiments in one session, side by side, each
file's progress in check.log in its folder; scenarios.reports.check_summary writes what the class leaves behind.
"""
from __future__ import annotations

from pathlib import Path


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


def table(rows: list) -> str:
    from scenarios.judging.profile import column

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
