"""What a check of server files writes beside its experiments' reports: a row per experiment, a file's
summary.json, summary.md and summary.html, a class's the same over every file, and JUnit XML on request."""
from __future__ import annotations

import json
from pathlib import Path

from scenarios.judging import diagnosis
from scenarios.reports import check_junit, report_html


def row_of(outcome) -> dict:
    plan, sub, result = outcome.experiment.tag["plan"], outcome.experiment.tag["sub"], outcome.result
    found = diagnosis.of_result(result, sub.yours, plan.profile)
    return {"scenario": result.scenario.name, "verdict": plan.words(result.verdict.verdict),
            "verdict_of": result.verdict.verdict,
            "agrees": result.verdict.reproduced, "outcome": result.verdict.verdict.value,
            "yours": list(sub.yours), "kept": sub.kept,
            "observed": result.verdict.observed, "duration_s": result.duration_s,
            "fix": found.fixes if found else [],
            "diagnosis": found.as_dict() if found else None,
            "note": diagnosis.note(result, sub.yours, plan.profile),
            # As the terminal's block says them: the diagnosis, its fix, or the note.
            "told": [list(pair) for pair in diagnosis.told(result, sub.yours, plan.profile)],
            "report": str(outcome.folder / "report.json")}


def write_file(plan) -> dict:
    """The file's summary.json, and summary.md and summary.html beside it, written in its reports folder."""
    rows = [row for _, row in sorted(plan.rows, key=lambda pair: pair[0])]
    summary = {"file": plan.own.label if plan.own else str(plan.path.resolve()), "sha256": plan.sha256,
               "stage": plan.stage.name, "agrees": all(row["agrees"] for row in rows),
               "profile": plan.profile.as_dict() if rows and plan.profile is not None else None,
               "scenarios": [{k: v for k, v in row.items() if k != "verdict_of"} for row in rows],
               "not_run": plan.not_run}
    write(plan.reports, summary, [{"label": plan.name, **summary}])
    return summary


def write_class(plans: list, refused: list, reports: Path, skipped: list, wall_s: float,
                junit: Path | None = None) -> tuple:
    """(the class's summary, its page): summary.json, summary.md and the page, a row per file (the files
    refused first), each from the summary its file wrote (write_file)."""
    rows = list(refused)
    for plan in plans:
        summary = plan.summary
        rows.append({"label": plan.name, "file": str(plan.path), "report": str(plan.reports),
                     "seconds": round(plan.seconds, 1), "stage": summary["stage"], "agrees": summary["agrees"],
                     "profile": summary.get("profile"), "scenarios": summary["scenarios"],
                     "sha256": summary["sha256"]})
    summary = {"agrees": all(r["agrees"] for r in rows), "files": rows, "skipped": skipped, "wall_s": wall_s}
    page = write(reports, summary, rows)
    if junit:
        check_junit.write(rows, junit)
    return summary, page


def write(folder: Path, summary: dict, rows: list) -> Path:
    """summary.json, summary.md and the page in folder, for a file or a class (rows: one per file); the page."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (folder / "summary.md").write_text(markdown(rows))
    return report_html.write_check(folder, rows)


def told(row: dict) -> list:
    """An experiment's (label, text) pairs as the terminal said them; a summary from before them, its fixes."""
    return row["told"] if "told" in row else [("fix", fix) for fix in row.get("fix", [])]


def markdown(rows: list) -> str:
    from scenarios.judging.profile import column, profile_lines

    lines = ["# lbaws check", ""]
    for r in rows:
        if r.get("profile"):
            lines += [f"**{r['label']}**, your server (measured before the experiments):", "",
                      *[f"- {label}: {text}" for label, text in profile_lines(r["profile"])], ""]
    lines += ["| file | stage | your server | scenario | verdict | what your server did |", "|---|---|---|---|---|---|"]
    for r in rows:
        model = column(r.get("profile"))
        if r.get("refused"):
            lines.append(f"| {r['label']} | {r.get('stage', '-')} | - | - | CANNOT RUN | {r['refused']} |")
        for s in r.get("scenarios", []):
            said = s["observed"].replace("|", "\\|")
            fixes = "".join(f"<br>**{label.capitalize()}:** {text}" for label, text in told(s)).replace("|", "\\|")
            lines.append(f"| {r['label']} | {r['stage']} | {model} | [{s['scenario']}]({Path(s['report']).parent}/report.md) "
                         f"| {s['verdict']} | {said}{fixes} |")
    lines += ["", f"{sum(1 for r in rows if r['agrees'])}/{len(rows)} files behave as their stage.", ""]
    return "\n".join(lines)
