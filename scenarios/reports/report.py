"""reports/NAME/report.json and report.md, the verdict block on the terminal, reports/summary.json."""
from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

from lab.runs import removal_command
from scenarios.reports import report_html, timeline
from scenarios.judging.at_death import at_death
from scenarios.reports.samples_file import NAME as SAMPLES, SamplesFile
from scenarios.executor.runner import RunResult
from scenarios.vocabulary.spec import LimitsFrom
from scenarios.vocabulary.verdict import SCENARIO_WORDS, Verdict, Words


# Where each trial's nofile and nproc came from, in words (`lbaws scenario --limits`).
LIMITS_SET_BY = {
    LimitsFrom.ENGINE: "the engine: the server container's ulimits (docker run --ulimit nofile=N:N --ulimit "
                       "nproc=M:M)",
    LimitsFrom.ENTRYPOINT: "the server's entrypoint: no engine ulimit; `lbaws limits --nofile N --nproc M -- "
                           "COMMAND` lowered soft and hard below the engine's defaults, then exec'd the server",
}


def as_json(result: RunResult, words: Words = SCENARIO_WORDS, told: list | None = None) -> dict:
    scenario = result.scenario
    return {
        "scenario": scenario.name,
        "section": scenario.section,
        "summary": scenario.summary,
        "stages": scenario.stages,
        "run_id": result.run_id,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(result.started)),
        "duration_s": result.duration_s,
        "sleep_scale": result.options.scale,
        "engine": result.options.engine,
        "limits": {t.key: t.server.limits.as_dict() for t in scenario.trials},
        "limits_set_by": {"from": result.options.limits.value, "how": LIMITS_SET_BY[result.options.limits]},
        # What each trial's locked-down server container got back, and why (lab.lockdown: none by default).
        "capabilities": {t.key: [{"capability": g.capability, "why": g.why} for g in t.server.grants]
                         for t in scenario.trials},
        # What the engine says the client runs under; each trial's server says its own in its observations.
        "client_confinement": result.client,
        "timings": {key: [{"ready_s": r.ready_s, "duration_s": r.duration_s} for r in runs]
                    for key, runs in result.observations.trials.items()},
        "verdict": {
            "word": words(result.verdict.verdict),
            "verdict": result.verdict.verdict.value,
            "reproduced": result.verdict.reproduced,
            "prediction": scenario.prediction,
            "observed": result.verdict.observed,
            "why": scenario.why,
            "numbers": result.verdict.numbers,
            "lessons": [{"key": lesson.key, "fault": lesson.fault, "fix": lesson.fix}
                        for lesson in shown_lessons(result)],
            # A check's diagnosis, as its terminal block says it; None outside a check.
            "told": None if told is None else [{"label": label, "text": text} for label, text in told],
        },
        "server_files": {key: {"path": runs[0].server_file, "sha256": runs[0].server_sha256}
                         for key, runs in result.observations.trials.items() if runs[0].server_file},
        "observations": {key: [r.as_dict() for r in runs] for key, runs in result.observations.trials.items()},
        "error": result.error,
    }


def shown_lessons(result: RunResult) -> list:
    """The scenario's Lessons its judgment named: the faults seen, each with the text's fix."""
    # Only a reader's file is told how to fix itself: the lab's own stages fail on purpose or not at all.
    yours = any(record.server_file for runs in result.observations.trials.values() for record in runs)
    named = result.verdict.lessons if yours and not result.verdict.reproduced else ()
    return [lesson for lesson in result.scenario.lessons if lesson.key in named]


def lesson_lines(result: RunResult) -> list:
    """"the fault: ...; the text's fix: ..." for each lesson a differing judgment named."""
    return [f"{lesson.fault}: {lesson.fix}" for lesson in shown_lessons(result)]


def verdict_block(result: RunResult, words: Words = SCENARIO_WORDS) -> str:
    scenario, verdict = result.scenario, result.verdict
    wrap = lambda label, text: textwrap.fill(text, 100, initial_indent=f"  {label:<11}",  # noqa: E731
                                             subsequent_indent=" " * 13)
    return "\n".join([
        f"{scenario.name}: {words(verdict.verdict)}  ({result.duration_s:.1f}s)",
        wrap("predicted", scenario.prediction),
        wrap("observed", verdict.observed),
        *[wrap("fix", line) for line in lesson_lines(result)],
        wrap("why", scenario.why),
    ])


TOLD_LABELS = {"fix": "The fix"}


def told_lines(result: RunResult, told: list | None) -> list:
    """report.md's paragraphs between Observed and Why: a check's diagnosis when given, else the lessons."""
    if told is None:
        return [f"**The fix.** {line}\n" for line in lesson_lines(result)]
    return [f"**{TOLD_LABELS.get(label, label.capitalize())}.** {text}\n" for label, text in told]


def as_markdown(result: RunResult, words: Words = SCENARIO_WORDS, told: list | None = None) -> str:
    scenario = result.scenario
    lines = [
        f"# {scenario.name}: {words(result.verdict.verdict)}",
        "",
        f"{scenario.summary}  ",
        f"Reproduces: {scenario.section}. Run `{result.run_id}`, {result.duration_s:.1f} s, "
        f"sleep scale {result.options.scale:g}.",
        f"Limits set by {LIMITS_SET_BY[result.options.limits]}.",
        *([f"Engine: {', '.join(f'{k} {v}' for k, v in result.options.engine.items())}."] if result.options.engine
          else []),
        "",
        f"**Prediction (the text).** {scenario.prediction}",
        "",
        f"**Observed.** {result.verdict.observed}",
        "",
        *told_lines(result, told),
        f"**Why.** {scenario.why}",
        "",
        "![timeline](timeline.png)",
        "",
        "## Numbers",
        "",
        "| measure | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in result.verdict.numbers.items()]
    lines += ["", "## Trials", ""]
    titles = {trial.key: trial.title for trial in scenario.trials}
    grants = {trial.key: trial.server.grants for trial in scenario.trials}
    kernel_counts = {trial.key for trial in scenario.trials if trial.fd_count.value == "kernel"}
    for key, runs in result.observations.trials.items():
        first = runs[0]
        lines.append(f"### {key}: stage {first.stage}{' ' + first.app if first.app else ''}"
                     f"{f' - {titles[key]}' if titles.get(key) else ''}"
                     f"{f' ({len(runs)} runs)' if len(runs) > 1 else ''}")
        lines.append("")
        if first.server_file:
            lines.append(f"Ran your file `{first.server_file}` (sha256 `{first.server_sha256}`) in stage "
                         f"{first.stage}'s place, as `python3 FILE{' ' + first.app if first.app else ''}`.")
        lines.append(f"Limits: {first.limits}; UID {first.uid}; image `{first.image}`.")
        lines.append("Capabilities: " + ("; ".join(f"{g.capability} ({g.why})" for g in grants.get(key, ()))
                                         or "none (all dropped, read-only root filesystem, no-new-privileges)")
                     + ".")
        if key in kernel_counts:
            lines.append("Descriptors sampled as root, by the size of /proc/PID/fd (no process of the server's "
                         "UID): it counts the one accept() reserves, so it shows one more than `ls` while the "
                         "server waits in accept().")
        in_force = first.baseline.limits if first.baseline else {}
        if in_force:
            lines.append("In force (/proc/PID/limits, soft/hard): "
                         + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(in_force.items())) + ".")
        last = runs[-1]
        lines.append(f"Server exit: {'still running at the end' if not last.died else last.exit_code}; "
                     f"fds at start {last.baseline_fds}, at end {last.final_fds}; "
                     f"peak fds {last.peak('fds')}, peak live children {last.peak('live')}, "
                     f"peak zombies {last.peak('zombies')}.")
        if last.traceback():
            lines += ["", "```", last.traceback(), "```"]
        lines.append("")
    if result.error:
        lines += ["## Error", "", "```", result.error, "```"]
    return "\n".join(lines) + "\n"


def write(result: RunResult, words: Words = SCENARIO_WORDS, told: list | None = None) -> Path:
    folder = Path(result.options.reports) / result.scenario.name
    folder.mkdir(parents=True, exist_ok=True)
    data = as_json(result, words, told)
    (folder / "report.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    (folder / "report.md").write_text(as_markdown(result, words, told))
    trials = {t.key: t for t in result.scenario.trials}
    deaths = at_death(result.observations, trials, result.verdict.numbers)
    if result.observations.trials:
        timeline.draw(result.observations, trials, f"{result.scenario.name}: {words(result.verdict.verdict)}",
                      folder / "timeline.png", deaths)
    report_html.write_run(folder, data)
    close_samples(result, folder / SAMPLES, data, deaths)
    return folder


def close_samples(result: RunResult, path: Path, data: dict, deaths: dict) -> None:
    """The run's samples.ndjson, if the runner wrote one, ends with the counts at death and the verdict."""
    if not path.exists():
        return
    with SamplesFile(path, mode="a") as samples:
        for key, death in deaths.items():
            samples.write("death", trial=key, **death)  # a trial run once: its label is its key
        samples.write("verdict", run_id=result.run_id, duration_s=result.duration_s, error=result.error,
                      **data["verdict"])


def summary_table(rows: list) -> str:
    """The table of `lbaws scenario --all`; each row's "verdict" a Verdict."""
    width = max([len(r["scenario"]) for r in rows] + [8])
    lines = [f"{'scenario':<{width}}  {'verdict':<18} duration", f"{'-' * width}  {'-' * 18} --------"]
    lines += [f"{r['scenario']:<{width}}  {SCENARIO_WORDS(r['verdict']):<18} {r['duration_s']:7.1f}s" for r in rows]
    total = sum(r["duration_s"] for r in rows)
    reproduced = sum(1 for r in rows if r["verdict"] is Verdict.REPRODUCED)
    cannot = sum(1 for r in rows if r["verdict"] is Verdict.CANNOT)
    errors = sum(1 for r in rows if r["verdict"] is Verdict.ERROR)
    lines.append(f"{reproduced}/{len(rows)} reproduced in {total:.1f}s"
                 + (f"; {cannot} cannot reproduce on this engine" if cannot else "")
                 + (f"; {errors} ended in a fault of the harness (ERROR)" if errors else ""))
    return "\n".join(lines)


def write_summary(rows: list, reports: Path, wall_s: float | None = None) -> Path:
    """reports/summary.json: a row per run; duration_s is the sum of their own times, wall_s the whole's."""
    path = Path(reports) / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "scenarios": [{**row, "verdict": SCENARIO_WORDS(row["verdict"])} for row in rows],
        "reproduced": sum(1 for r in rows if r["verdict"] is Verdict.REPRODUCED),
        "total": len(rows),
        "duration_s": round(sum(r["duration_s"] for r in rows), 2),
        **({"wall_s": wall_s} if wall_s is not None else {}),
    }, indent=2) + "\n")
    return path


def keep_instructions(result) -> str:
    lines = [f"containers kept for inspection (run {result.run_id}):"]
    for record in (r for runs in result.observations.trials.values() for r in runs):
        name = record.container
        if record.died:
            lines.append(f"  docker logs {name}            # {record.key}: the server exited ({record.exit_code})")
        else:
            lines.append(f"  docker exec {name} ps -eo pid,ppid,user,stat,args   # {record.key}: processes")
            # As the server's UID: root in a container lacks CAP_SYS_PTRACE and cannot read fd links.
            lines.append(f"  docker exec -u {record.uid} {name} ls -l /proc/{record.server_pid}/fd"
                         f"  # the server's descriptors")
    lines.append("remove them with:")
    lines.append(f"  {removal_command(result.run_id)}")
    return "\n".join(lines)
