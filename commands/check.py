"""`lbaws check FILE`: a reader's own server judged by the experiments of its stage.

    lbaws check webserver3g.py              # the stage from the file name, as the stage table's aliases
    lbaws check myserver.py --stage 3d
    lbaws check webserver2.py               # serves flaskapp, pyramidapp, djangoapp and wsgiapp in turn
    lbaws check webserver3g.py --scenario waitpid-reaper    # one experiment only
    lbaws check servers/ --stage 3g --junit results.xml     # a class of files, each in a run of its own

Every scenario with a trial of the file's stage runs with the file in that trial's place, as
`python3 FILE [MODULE:CALLABLE]`; the other trials stay the lab's, and the same judge decides. The file
BEHAVES AS THE TEXT'S stage where the scenario's prediction still holds, and DIFFERS elsewhere.

Exit status: 0 it behaves as the text's stage in every scenario, 1 it differs somewhere, 2 bad arguments
or a file the lab cannot run, 3 no Docker engine or images, 4 no experiment of its stage can reproduce on
this engine (lbaws doctor says why), 5 ERROR: a fault of the harness or the engine, which says nothing
about the file, 130 interrupted.
"""
from __future__ import annotations

import hashlib
import json
import sys
import textwrap
from pathlib import Path

from commands import common
from commands.common import (EXIT_CANNOT, EXIT_FAILED, EXIT_INTERRUPTED, Parser, add_watch,
                             default_reports as lab_reports, image_roles, preflight, restore_interrupt,
                             sigterm_as_interrupt, start_watch, usage, whole_number)
from lbaws import stages
from scenarios import catalog, diagnosis
from scenarios import profile as server_profile
from scenarios.results import MissingResult
from scenarios.spec import Scaled, Scenario, ServerSpec, Snapshot, Trial
from scenarios.substitute import (CheckError, Substitution, own_server, python2_signs, read_server_file, stage_for,
                                  substitute)
from scenarios.verdict import Judgment, check_words

PROG = "lbaws check"
START_TIMEOUT = 20.0  # how long a reader's server may take to listen before it DIFFERS
PORT = 8888
OUTPUT_LINES = 12  # of the server's own output, quoted when it did not start


def build_parser() -> Parser:
    p = Parser(prog=PROG, description="Judge your own server file by the experiments of its stage.",
               epilog="Exit status: 0 behaves as its stage everywhere, 1 differs somewhere, 2 bad arguments, "
                      "3 no Docker engine or images, 4 this engine cannot reproduce its experiments, "
                      "5 ERROR (a fault of the harness or engine), 130 interrupted.")
    p.add_argument("file", metavar="FILE", nargs="*",
                   help="your server, e.g. webserver3g.py; or several, or a folder of them (its *.py); with "
                        "--command, the folder CMD runs in")
    p.add_argument("--command", metavar="CMD", default=None,
                   help="any language: run CMD in the folder DIR (mounted read-only) as the server, e.g. "
                        "./server3g for a static binary; needs --stage")
    p.add_argument("--image", metavar="IMAGE", default=None,
                   help="your own locally built image (FROM the lab's server image, so the probes find ps and "
                        "ss) whose command serves on port 8888; needs --stage, no FILE")
    p.add_argument("--stage", metavar="S", help=f"the stage it plays ({stages.names()}); default: from its name")
    p.add_argument("--scenario", action="append", default=[], metavar="NAME",
                   help="only this experiment (repeatable); default: every one with a trial of the stage")
    p.add_argument("--reports", type=Path, default=None, metavar="DIR",
                   help="where reports go (default: reports/check/FILE-STEM at the project root; for "
                        "several files reports/check, a folder per file)")
    p.add_argument("--junit", type=Path, default=None, metavar="PATH",
                   help="also write JUnit XML there: one testcase per file x scenario, for CI")
    p.add_argument("--jobs", type=whole_number(1, 64), default=None, metavar="N",
                   help="files checked side by side (default: one per two cores)")
    add_watch(p)
    return p


def output_tail(record) -> str:
    lines = [line for line in record.logs.splitlines() if line.strip()]
    return " | ".join(lines[-OUTPUT_LINES:]) or "(it printed nothing)"


def listen_addresses(listening: str, port: int = PORT) -> list:
    """The local addresses of `ss -Hltn` lines that listen on `port`."""
    found = []
    for line in listening.splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[3].rsplit(":", 1)[-1] == str(port):
            found.append(parts[3].rsplit(":", 1)[0])
    return found


def starts_scenario(path: Path | None, first: ServerSpec) -> Scenario:
    """Does the file start, listen on 8888, and on every interface? Asked once, before any experiment."""
    spec = ServerSpec(stage=first.stage, app=first.app, image=first.image, own=first.own,
                      file=None if first.own else str(path.resolve()))

    def judge(obs) -> Judgment:
        record = obs["starts"]
        if not record.started:
            if record.died:
                signs = python2_signs(path.read_text(errors="replace")) if spec.file else []
                port = f" It looks like Python 2: {'; '.join(signs)}." if signs else ""
                return Judgment.of(False, f"your server exited at start with status {record.exit_code} before it "
                                      f"listened on port {PORT}; its output: {output_tail(record)}.{port}")
            return Judgment.of(False, f"your server did not listen on port {PORT} within {START_TIMEOUT:g} s; "
                                  f"the lab's experiments all connect to port {PORT}, as the text's clients do; "
                                  f"its output: {output_tail(record)}")
        try:
            addresses = listen_addresses(record.snapshot("listening").listening)
        except MissingResult as missing:
            return Judgment.of(False, f"your server stopped right after it started listening ({missing}); "
                                  f"its output: {output_tail(record)}")
        loopback = {"127.0.0.1", "[::1]", "::1"}
        if addresses and all(address in loopback for address in addresses):
            return Judgment.of(False, f"your server listens on {addresses[0]}:{PORT} only, so no other machine "
                                  f"(and none of the lab's client containers) can reach it; bind all interfaces "
                                  f"as the text does: SERVER_ADDRESS = (HOST, PORT) = '', {PORT}",
                           {"listening": addresses})
        differs, lessons = server_profile.differs(server_profile.measure(record), spec.stage)
        if differs:
            return Judgment.of(False, differs, {"listening": addresses}, lessons)
        return Judgment.of(True, f"your server listens on {', '.join(addresses)} port {PORT}",
                       {"listening": addresses})

    return Scenario(
        name="starts", section="the text's servers all start with `python webserverN.py` and listen on port 8888",
        summary="the file starts and listens on port 8888 on every interface",
        prediction=f"The server prints its banner and listens on port {PORT} on all interfaces.",
        why="Every experiment connects from a separate client container, as the text's curl and client3.py "
            "connect to the server's port.",
        trials=(Trial("starts", spec, (Snapshot(key="listening"), *server_profile.PROFILE), title="does it start?"),),
        judge=judge, lessons=server_profile.LESSONS)


def plan(path: Path | None, stage: stages.Stage, own=None) -> list:
    """Each scenario with a trial of the stage, with the file (or the reader's own server) put in."""
    found = []
    for scenario in catalog.all_scenarios().values():
        if any(stages.find(trial.server.stage) is stage for trial in scenario.trials):
            found.append(substitute(scenario, path, stage, own=own))
    return found


def describe(sub: Substitution) -> str:
    parts = [f"your file runs in trial{'s' if len(sub.yours) > 1 else ''} {', '.join(sub.yours)}"
             if sub.yours else "your file runs in no trial"]
    parts += [f"trial {key} keeps the lab's stage: {why}" for key, why in sub.kept.items()]
    others = [t.key for t in sub.scenario.trials if t.key not in sub.yours and t.key not in sub.kept]
    if others:
        parts.append(f"the lab's own {', '.join(others)} run{'s' if len(others) == 1 else ''} beside it")
    return "; ".join(parts)


def own_sleeps(sub: Substitution) -> float:
    """Seconds of the text's sleeps that the reader's file sleeps unscaled in this scenario."""
    total = 0.0
    for trial in sub.scenario.trials:
        if trial.key in sub.yours and isinstance(trial.server.sleep, Scaled):
            total += trial.server.sleep.resolve(1.0)
    return total


def check_block(stage: stages.Stage, sub: Substitution, result, profile=None) -> str:
    verdict = result.verdict
    found = diagnosis.of_result(result, sub.yours, profile)
    note = diagnosis.note(result, sub.yours, profile)
    wrap = lambda label, text: textwrap.fill(text, 100, initial_indent=f"  {label:<11}",  # noqa: E731
                                             subsequent_indent=" " * 13)
    return "\n".join([
        f"{result.scenario.name}: {check_words(stage.name)(verdict.verdict)}  ({result.duration_s:.1f}s)",
        wrap("ran", describe(sub)),
        wrap("observed", verdict.observed),
        *[wrap(label, line) for label, line in (found.lines() if found else [])],
        *([wrap("note", note)] if note else []),
        wrap("the text", result.scenario.prediction),
        wrap("why", result.scenario.why),
    ])


def default_reports(path: Path) -> Path:
    return lab_reports() / "check" / path.stem


def summary_table(rows: list, stage: stages.Stage) -> str:
    width = max([len(r["scenario"]) for r in rows] + [8])
    lines = [f"{'scenario':<{width}}  {'verdict':<28} duration"]
    lines += [f"{r['scenario']:<{width}}  {r['verdict']:<28} {r['duration_s']:7.1f}s" for r in rows]
    agree = sum(1 for r in rows if r["agrees"])
    lines.append(f"{agree}/{len(rows)} behave as the text's {stage.name}")
    return "\n".join(lines)


def plan_for(path: Path | None, args, own=None):
    """(stage, every Substitution of its scenarios, the runnable ones), or an exit status after one line."""
    try:
        if own is None:
            read_server_file(path)
        stage = stage_for(path, args.stage)
    except CheckError as exc:
        return usage(PROG, str(exc))
    subs = plan(path, stage, own)
    unknown = sorted(set(args.scenario) - {sub.scenario.name for sub in subs})
    if unknown:
        return usage(PROG, f"{', '.join(unknown)}: no trial of stage {stage.name} there; the experiments of "
                           f"stage {stage.name}: {', '.join(sub.scenario.name for sub in subs) or 'none'}")
    subs = [sub for sub in subs if not args.scenario or sub.scenario.name in args.scenario]
    runnable = [sub for sub in subs if sub.yours]
    if not runnable:
        why = "; ".join(f"{sub.scenario.name}: {describe(sub)}" for sub in subs)
        staged = sorted({t.server.stage for s in catalog.all_scenarios().values() for t in s.trials})
        return usage(PROG, f"no experiment of the lab can run a stage-{stage.name} file"
                           f"{f' ({why})' if why else ''}; the stages with experiments are {', '.join(staged)}")
    return stage, subs, runnable


def announce(label: str, stage: stages.Stage, subs: list, runnable: list, sha256: str, out) -> None:
    plays = f"the text's {stage.tutorial_file}" if stage.tutorial_file else f"the lab's stage {stage.name}"
    print(f"checking {label} (sha256 {sha256[:12]}...) as {plays}: "
          f"{len(runnable)} experiment{'s' if len(runnable) > 1 else ''}", file=out)
    for sub in subs:
        print(f"  {sub.scenario.name}: {describe(sub)}", file=out)
        if own_sleeps(sub):
            print(f"    your {stage.name} sleeps as the text's does ({own_sleeps(sub):g} s in all) and cannot be "
                  f"shortened: this one takes at least that long", file=out)


def own_refused(args) -> str:
    """Why --command or --image cannot run as given; "" when it can."""
    if args.command is not None and args.image is not None:
        return "give --command CMD DIR or --image IMAGE, not both"
    if not args.stage:
        return f"--{'command' if args.command is not None else 'image'} needs --stage: the lab cannot read a stage from it"
    if args.command is not None and len(args.file) != 1:
        return "--command CMD runs in one folder: give it as DIR"
    if args.image is not None and args.file:
        return "--image IMAGE runs the image's own command: give no FILE"
    return ""


def exit_status(rows: list) -> int:
    return common.exit_status(row["verdict_of"] for row in rows)


def main(argv=None) -> int:
    restore_interrupt()
    args = build_parser().parse_args(argv)
    out = sys.stdout
    if args.command is None and args.image is None and (len(args.file) > 1 or args.file and Path(args.file[0]).is_dir()):
        from commands import check_many

        args.reports = args.reports or lab_reports() / "check"
        with sigterm_as_interrupt():
            return check_many.run(args, out)
    own = None
    if args.command is not None or args.image is not None:
        refused = own_refused(args)
        if refused:
            return usage(PROG, refused)
        try:
            own = own_server(Path(args.file[0]) if args.file else None, args.command, args.image)
        except CheckError as exc:
            return usage(PROG, str(exc))
    elif not args.file:
        return usage(PROG, "give FILE (or several, or a folder), or --image IMAGE, or --command CMD DIR")
    path = Path(args.file[0]) if args.file else None
    planned = plan_for(path, args, own)
    if not isinstance(planned, tuple):
        return planned
    stage, subs, runnable = planned
    sha256 = own.digest if own else hashlib.sha256(path.read_bytes()).hexdigest()
    label = own.label if own else str(path)
    announce(label, stage, subs, runnable, sha256, out)

    from scenarios import preflight as engine_facts
    from scenarios import report
    from scenarios.progress import Progress
    from scenarios.runner import Options, ScenarioRunner

    reports = args.reports or default_reports(path if own is None else Path(
        Path(args.file[0]).resolve().name if args.command is not None else args.image.replace(":", "-").replace("/", "-")))
    options = Options(scale=1.0, reports=reports)
    # The page shows the lab's whole reports folder, this check among the rest, unless --reports is elsewhere.
    if args.watch and not start_watch(PROG, args.watch_port, args.reports or lab_reports(), None, out):
        return EXIT_FAILED
    engine, facts, failed = preflight(PROG, out, image_roles(sub.scenario for sub in runnable))
    if engine is None:
        return failed
    blocked = engine_facts.blocked({sub.scenario.name: sub.scenario for sub in runnable}, facts)
    for name, reasons in blocked.items():
        print(f"  {engine_facts.cannot_line(name, reasons)}", file=out)
    runnable = [sub for sub in runnable if sub.scenario.name not in blocked]
    if not runnable:
        print(f"{PROG}: no experiment of stage {stage.name} can reproduce on this engine", file=sys.stderr)
        return EXIT_CANNOT
    words = check_words(stage.name)
    rows, measured = [], None
    try:
        with sigterm_as_interrupt():
            first = next(t.server for t in runnable[0].scenario.trials if t.key in runnable[0].yours)
            start_options = Options(scale=1.0, reports=reports, ready_timeout=START_TIMEOUT)
            started = ScenarioRunner(starts_scenario(path, first), start_options, Progress(out), engine=engine).run()
            start_sub = Substitution(started.scenario, ("starts",))
            measured = server_profile.of_result(started)
            if measured is not None:
                print(server_profile.render(measured), file=out)
            rows.append(_row(started, stage, start_sub, report.write(started, words), measured))
            print(check_block(stage, start_sub, started, measured), file=out)
            if started.verdict.reproduced or (measured is not None and server_profile.differs(measured, stage.name)[0]):
                for sub in runnable:
                    result = ScenarioRunner(sub.scenario, options, Progress(out), engine=engine).run()
                    rows.append(_row(result, stage, sub, report.write(result, words), measured))
                    print(check_block(stage, sub, result, measured), file=out)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; this run's containers and network were removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    agrees = all(row["agrees"] for row in rows)
    summary = {"file": own.label if own else str(path.resolve()), "sha256": sha256, "stage": stage.name, "agrees": agrees,
               "profile": measured.as_dict() if rows and measured is not None else None,
               "scenarios": [{k: v for k, v in row.items() if k != "verdict_of"} for row in rows],
               "not_run": {sub.scenario.name: describe(sub) for sub in subs if not sub.yours}}
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    from commands import check_many

    name = own.label if own else path.name
    (reports / "summary.md").write_text(check_many.markdown([{"label": name, **summary}]))
    print(summary_table(rows, stage), file=out)
    print(f"summary: {reports / 'summary.json'}", file=out)
    if args.junit:
        from commands import check_junit

        check_junit.write([{"label": name, "scenarios": summary["scenarios"]}], args.junit)
    return exit_status(rows)


def _row(result, stage, sub: Substitution, folder: Path, profile=None) -> dict:
    found = diagnosis.of_result(result, sub.yours, profile)
    return {"scenario": result.scenario.name, "verdict": check_words(stage.name)(result.verdict.verdict),
            "verdict_of": result.verdict.verdict,
            "agrees": result.verdict.reproduced, "outcome": result.verdict.verdict.value,
            "yours": list(sub.yours), "kept": sub.kept,
            "observed": result.verdict.observed, "duration_s": result.duration_s,
            "fix": found.fixes if found else [],
            "diagnosis": found.as_dict() if found else None,
            "note": diagnosis.note(result, sub.yours, profile),
            "report": str(folder / "report.json")}


if __name__ == "__main__":
    sys.exit(main())
