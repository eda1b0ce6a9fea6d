"""`lbaws check FILE`: a reader's own server judged by the experiments of its stage.

    lbaws check webserver3g.py              # the stage from the file name, as the stage table's aliases
    lbaws check myserver.py --stage 3d
    lbaws check webserver2.py               # serves flaskapp, pyramidapp, djangoapp and wsgiapp in turn
    lbaws check webserver3g.py --scenario waitpid-reaper    # one experiment only
    lbaws check servers/ --stage 3g --junit results.xml     # a class of files, their experiments side by side
    lbaws check webserver3g.py --jobs 1     # one experiment at a time

Every scenario with a trial of the file's stage runs with the file in that trial's place, as
`python3 FILE [MODULE:CALLABLE]`; the other trials stay the lab's, and the same judge decides. The file
BEHAVES AS THE TEXT'S stage where the scenario's prediction still holds, and DIFFERS elsewhere.

A file's experiments run side by side (--jobs, by default two per core, floods one more than the cores), after the one
that asks whether it starts at all; a class's files share them. The check ends with each experiment's
own time and the wall time of the whole.

Exit status: 0 it behaves as the text's stage in every scenario, 1 it differs somewhere, 2 bad arguments
or a file the lab cannot run, 3 no Docker engine or images, 4 no experiment of its stage can reproduce on
this engine (lbaws doctor says why), 5 ERROR: a fault of the harness or the engine, which says nothing
about the file, 130 interrupted.
"""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from commands import check_many, common
from commands.common import (EXIT_CANNOT, EXIT_ERROR, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Parser, Refused,
                             add_jobs, add_watch, at_a_time, chosen_jobs, command, default_reports as lab_reports,
                             image_roles, preflight, sigterm_as_interrupt, start_watch, timing_lines)
from lbaws import stages
from scenarios.judging import diagnosis
from scenarios.reports import check_junit, check_summary, report_html
from scenarios.judging import profile as server_profile
from scenarios.executor.check_plan import FilePlan, describe, leave_out, own_sleeps, plan_file
from scenarios.executor.substitute import CheckError, own_server, read_server_file, stage_for
from scenarios.vocabulary.verdict import check_words

PROG = "lbaws check"


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
    add_jobs(p, "experiments (of one file, or of a class's files)")
    add_watch(p)
    return p


def check_block(stage: stages.Stage, sub, result, profile=None) -> str:
    verdict = result.verdict
    wrap = lambda label, text: textwrap.fill(text, 100, initial_indent=f"  {label:<11}",  # noqa: E731
                                             subsequent_indent=" " * 13)
    return "\n".join([
        f"{result.scenario.name}: {check_words(stage.name)(verdict.verdict)}  ({result.duration_s:.1f}s)",
        wrap("ran", describe(sub)),
        wrap("observed", verdict.observed),
        *[wrap(label, line) for label, line in diagnosis.told(result, sub.yours, profile)],
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


def announce(plan: FilePlan) -> str:
    stage = plan.stage
    plays = f"the text's {stage.tutorial_file}" if stage.tutorial_file else f"the lab's stage {stage.name}"
    count = len(plan.runnable) + len(plan.blocked)
    lines = [f"checking {plan.label} (sha256 {plan.sha256[:12]}...) as {plays}: "
             f"{count} experiment{'s' if count > 1 else ''}"]
    for sub in plan.subs:
        lines.append(f"  {sub.scenario.name}: {describe(sub)}")
        if own_sleeps(sub):
            lines.append(f"    your {stage.name} sleeps as the text's does ({own_sleeps(sub):g} s in all) and cannot "
                         f"be shortened: this one takes at least that long")
    return "\n".join(lines)


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


def single_plan(args) -> FilePlan:
    """The plan of one file, or of the reader's own server (--command, --image); Refused if it cannot run."""
    own = None
    if args.command is not None or args.image is not None:
        refused = own_refused(args)
        if refused:
            raise Refused(refused)
    elif not args.file:
        raise Refused("give FILE (or several, or a folder), or --image IMAGE, or --command CMD DIR")
    path = Path(args.file[0]) if args.file else None
    try:
        if args.command is not None or args.image is not None:
            own = own_server(path, args.command, args.image)
        named = path if own is None else Path(
            path.resolve().name if args.command is not None else args.image.replace(":", "-").replace("/", "-"))
        return plan_file(path, args.stage, args.scenario, args.reports or default_reports(named), own)
    except CheckError as exc:
        raise Refused(str(exc)) from None


def class_plans(args, out) -> tuple:
    """(the plans of a class's files, refused rows, skipped lines): each file validated once, here."""
    files, skipped = check_many.expand(args.file)
    if not files:
        raise Refused(f"no *.py file in {', '.join(args.file)}")
    names = check_many.folder_names([path for path, _ in files])
    plans, refused = [], []
    for path, from_folder in files:
        try:
            read_server_file(path)
            stage_for(path, args.stage)
            folder = args.reports / names[path]
            plan = plan_file(path, args.stage, args.scenario, folder)
        except CheckError as exc:
            if from_folder and not args.stage and "cannot tell the stage" in str(exc):
                skipped.append(f"{path}: skipped, its name says no stage (give --stage to check it)")
                continue
            refused.append({"label": path.name, "file": str(path), "refused": str(exc), "agrees": False})
            continue
        plan.name, plan.log = path.name, folder / "check.log"
        plans.append(plan)
    return plans, refused, skipped


def main(argv=None) -> int:
    return command(PROG, run, argv)


def run(argv) -> int:
    args = build_parser().parse_args(argv)
    out = sys.stdout
    at_once = chosen_jobs(args)  # a wrong LBAWS_JOBS is said before any file is read or the engine asked
    many = args.command is None and args.image is None and (
        len(args.file) > 1 or bool(args.file) and Path(args.file[0]).is_dir())
    if many:
        args.reports = args.reports or lab_reports() / "check"
        plans, refused, skipped = class_plans(args, out)
    else:
        plans, refused, skipped = [single_plan(args)], [], []
        print(announce(plans[0]), file=out)
    # The page shows the lab's whole reports folder, this check among the rest, unless --reports is elsewhere.
    if args.watch:
        start_watch(args.watch_port, args.reports or lab_reports(), None, out)

    from scenarios.executor import preflight as engine_facts
    from scenarios.executor.session import Session

    engine, facts = preflight(out, image_roles(sub.scenario for plan in plans for sub in plan.runnable))
    for plan in plans:
        blocked = engine_facts.blocked({sub.scenario.name: sub.scenario for sub in plan.runnable}, facts)
        leave_out(plan, blocked)
        for name, reasons in blocked.items():
            line = f"  {engine_facts.cannot_line(name, reasons)}"
            if many:
                with open(plan.log, "a", encoding="utf-8") as log:
                    log.write(line + "\n")
            else:
                print(line, file=out)
    if not many and not plans[0].runnable:
        raise Refused(f"no experiment of stage {plans[0].stage.name} can reproduce on this engine", EXIT_CANNOT)
    for plan in [plan for plan in plans if not plan.runnable]:
        plans.remove(plan)
        refused.append({"label": plan.name, "file": plan.label, "agrees": False,
                        "refused": f"no experiment of stage {plan.stage.name} can reproduce on this engine"})
    session = Session(engine, facts, out, at_once)
    if many:
        print(f"checking {len(plans)} file{'s' if len(plans) != 1 else ''}, experiments "
              f"{at_a_time(session)}; reports in {args.reports}", file=out, flush=True)
        for line in skipped + [f"{r['file']}: {r['refused']}" for r in refused]:
            print(f"  {line}", file=out)
        for plan in plans:
            plan.log.parent.mkdir(parents=True, exist_ok=True)
            plan.log.write_text(announce(plan) + "\n")
    else:
        print(f"{len(plans[0].runnable) + 1} experiments, {at_a_time(session)}", file=out, flush=True)
    def done(outcome):
        plan, sub = outcome.experiment.tag["plan"], outcome.experiment.tag["sub"]
        more = plan.landed(outcome)
        block = check_block(plan.stage, sub, outcome.result, plan.profile)
        if outcome.experiment.tag["index"] == 0 and plan.profile is not None:
            block = server_profile.render(plan.profile) + "\n" + block
        if many:
            with open(plan.log, "a", encoding="utf-8") as log:
                log.write(block + "\n")
        else:
            session.say(block)
        if many and not plan.pending:
            agree = sum(1 for row in plan.summary["scenarios"] if row["agrees"])
            session.say(f"  {plan.name}: {agree}/{len(plan.summary['scenarios'])} behave as the text's "
                        f"{plan.stage.name} ({plan.seconds:.1f}s of experiments)")
        return more

    try:
        with sigterm_as_interrupt():
            outcomes = session.run([plan.first() for plan in plans], done)
    except KeyboardInterrupt:
        where = "every file's" if many else "this run's"
        print(f"{PROG}: interrupted; {where} containers and network were removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    if many:
        return class_end(args, plans, refused, skipped, outcomes, session, out)
    plan = plans[0]
    rows = [row for _, row in sorted(plan.rows, key=lambda pair: pair[0])]
    print(summary_table(rows, plan.stage), file=out)
    print(timing_lines(outcomes, session.wall_s, session), file=out)
    print(f"summary: {plan.reports / 'summary.json'}", file=out)
    print(f"page: {plan.reports / report_html.NAME}", file=out)
    if args.junit:
        check_junit.write([{"label": plan.name, "scenarios": plan.summary["scenarios"]}], args.junit)
    return exit_status(rows)


def class_end(args, plans: list, refused: list, skipped: list, outcomes: list, session, out) -> int:
    """A class's table, its summary.json and summary.md (and --junit), and the exit status of the whole."""
    summary, page = check_summary.write_class(plans, refused, args.reports, skipped, session.wall_s, args.junit)
    rows = summary["files"]
    print(check_many.table(rows), file=out)
    print(timing_lines(outcomes, session.wall_s, session), file=out)
    print(f"summary: {args.reports / 'summary.md'}", file=out)
    print(f"page: {page}", file=out)
    if any(s.get("outcome") == "error" for r in rows for s in r.get("scenarios", [])):
        return EXIT_ERROR
    return EXIT_OK if summary["agrees"] else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
