"""`lbaws scenario`: run one experiment of the text (or all of them) and say whether it reproduced.

    lbaws scenario fd-exhaustion          # one scenario, the text's numbers
    lbaws scenario --list                 # names, one line each, and the section of the text
    lbaws scenario --all                  # every scenario side by side, a final table, reports/summary.json
    lbaws scenario --all --jobs 1         # one at a time
    lbaws scenario --all --jobs 3 --repeat 5         # each five times: how many runs reproduced, per scenario
    lbaws scenario --floods --jobs 3 --repeat 60     # the six floods: the stress command (make stress)
    lbaws scenario fd-exhaustion zombies --repeat 3  # the same for some
    lbaws scenario zombies --keep         # leave the containers running to look inside
    lbaws scenario fd-exhaustion --limits entrypoint   # no engine ulimit: the server lowers its own
    lbaws scenario zombies --emit kubernetes DIR      # the run as Kubernetes manifests; no engine needed

The sleep-scale knob shortens the text's sleeps (3b's and 3c's 60 s): --sleep-scale F or the
environment variable LBAWS_SLEEP_SCALE; --fast is --sleep-scale 0.1. A single run defaults to 1 (the
text's 60 s), --all to 0.1. Limits and client counts (256, 300, 400, 500, 128) are never scaled.

Several experiments run side by side (--jobs, by default two per core, of which those that flood a
server one more than the cores; never two runs of one scenario at once, since they share its report folder), and the run ends with each one's own time and
the wall time of the whole.

Before any run, the preflight of `lbaws doctor` reads what kind of engine this is; a scenario it cannot
reproduce on (scenarios.vocabulary.spec.Needs) ends in one line saying why, and --all goes on with the others.

Exit status: 0 reproduced (every run of every one that can run here), 1 not reproduced, 2 bad arguments
or unknown scenario, 3 no Docker engine or images, 4 this engine cannot reproduce it, 5 ERROR: a fault
of the harness or the engine (a probe or a judge failed), which says nothing about the server, 130
interrupted.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from commands import common
from commands.common import (EXIT_INTERRUPTED, EXIT_OK, Parser, Refused, add_jobs, add_watch, at_a_time,
                             chosen_jobs, command, default_reports, fraction, image_roles, preflight,
                             sigterm_as_interrupt, start_watch, timing_lines, whole_number)
from lab.runs import removal_command
from scenarios import catalog
from scenarios.executor.variants import loaded_names, with_client, with_servers
from scenarios.vocabulary.spec import LimitsFrom
from scenarios.vocabulary.verdict import SCENARIO_WORDS, Verdict

PROG = "lbaws scenario"
FAST = 0.1


def build_parser() -> Parser:
    p = Parser(prog=PROG, description="Reproduce an experiment of 'Let's Build A Web Server'.",
                epilog="Sleep scale: --sleep-scale, else LBAWS_SLEEP_SCALE, else 1 for one run and 0.1 for --all. "
                       "Exit status: 0 reproduced, 1 not reproduced, 2 bad arguments, 3 no Docker engine or images, "
                       "4 this engine cannot reproduce it, 5 ERROR (a fault of the harness or engine), "
                       "130 interrupted.")
    p.add_argument("names", nargs="*", metavar="NAME", help="the scenario(s) to run (see --list)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="list the scenarios and the text each reproduces")
    what.add_argument("--all", action="store_true", help="run every scenario and print a summary table")
    what.add_argument("--floods", action="store_true",
                      help="run every scenario that floods a server (the stress command's: make stress)")
    speed = p.add_mutually_exclusive_group()
    speed.add_argument("--fast", action="store_true", help=f"shorten the text's sleeps (--sleep-scale {FAST})")
    speed.add_argument("--sleep-scale", type=fraction, metavar="F", help="multiply the text's sleeps by F (0 < F <= 1)")
    p.add_argument("--keep", action="store_true",
                   help="leave the containers running and print how to look inside and remove them")
    p.add_argument("--repeat", type=whole_number(1, 1000), default=1, metavar="N",
                   help="run each scenario N times and say per scenario how many runs reproduced")
    p.add_argument("--rounds", type=whole_number(1, 1000), metavar="N",
                   help="rounds of a racy scenario within one run (missed-signals; default 5)")
    add_jobs(p, "experiments")
    p.add_argument("--reports", type=Path, default=None, metavar="DIR",
                   help="where reports go (default: reports/ at the project root)")
    p.add_argument("--trials", action="store_true", help="list the scenario's trials (for --server)")
    p.add_argument("--server", action="append", default=[], metavar="TRIAL=PATH",
                   help="run your own server file in that trial's place (python3 PATH [APP]); repeatable")
    p.add_argument("--client", choices=("lab", "text", "repository"), default=None,
                   help="which client3.py every load of the scenario plays (lbaws-client --pattern): the lab's "
                        "(default), the text's listing, or the copy in the text's repository")
    p.add_argument("--limits", choices=[each.value for each in LimitsFrom], default=None,
                   help="who sets the server's nofile and nproc: the engine's ulimits (default), or its entrypoint "
                        "(`lbaws limits`, with no engine ulimit at all, as on Kubernetes)")
    p.add_argument("--emit", nargs=2, metavar=("FORMAT", "DIR"),
                   help="write the run as manifests instead of running it: `--emit kubernetes DIR` (per trial the "
                        "server's Pod, a Service, NetworkPolicies, the client's Job; one Namespace; see "
                        "docs/kubernetes.md). Needs no Docker engine")
    add_watch(p)
    return p


def sleep_scale(args) -> float:
    if args.fast:
        return FAST
    if args.sleep_scale is not None:
        return args.sleep_scale
    env = os.environ.get("LBAWS_SLEEP_SCALE")
    if env:
        return fraction(env)
    return FAST if args.all else 1.0


def jobs(args) -> int:
    """Side by side where several run, one at a time with --keep (its containers are left to look at)."""
    return 1 if args.keep else chosen_jobs(args)


def list_scenarios(out) -> int:
    scenarios = catalog.all_scenarios()
    width = max(len(name) for name in scenarios)
    for name, scenario in scenarios.items():
        print(f"{name:<{width}}  {scenario.summary}", file=out)
        # A scenario beyond the text says so itself, instead of naming a part of it.
        where = scenario.section if scenario.section.startswith("Beyond") else f"text: {scenario.section}"
        print(f"{'':<{width}}  {where}", file=out)
    return 0


def list_trials(scenario, out) -> int:
    width = max(len(trial.key) for trial in scenario.trials)
    for trial in scenario.trials:
        switches = trial.server.lab_only_switches
        note = f"; lab's only ({', '.join(switches)})" if switches else ""
        print(f"{trial.key:<{width}}  stage {trial.server.stage}{' ' + trial.server.app if trial.server.app else ''}"
              f"{' - ' + trial.title if trial.title else ''}{note}", file=out)
    return 0


def chosen(args) -> dict:
    """{name: scenario} as the arguments ask for; Refused when they cannot be."""
    known = catalog.names()
    if (args.all or args.floods) and args.names:
        raise Refused(f"give NAMEs or {'--all' if args.all else '--floods'}, not both")
    if args.all:
        names = known
    elif args.floods:
        names = [name for name, scenario in catalog.all_scenarios().items() if scenario.floods]
    else:
        if not args.names:
            raise Refused(f"which one? valid names: {', '.join(known)}")
        unknown = [name for name in args.names if name not in known]
        if unknown:
            raise Refused(f"unknown scenario {unknown[0]!r}; valid names: {', '.join(known)}")
        names = list(dict.fromkeys(args.names))
    one = args.names[0] if len(args.names) == 1 else None  # NAMEs only: --all and --floods take none
    if (args.trials or args.server) and one is None:
        raise Refused("--trials and --server go with one NAME, not --all")
    scenarios = {name: catalog.get(name) for name in names}
    if args.trials:
        return scenarios
    if args.server:
        from scenarios.executor.substitute import CheckError

        try:
            scenarios[one] = with_servers(scenarios[one], args.server)
        except CheckError as exc:
            raise Refused(str(exc)) from None
    if args.client:
        lacking = [name for name in scenarios if with_client(scenarios[name], args.client) is None]
        if lacking and not args.all:
            raise Refused(f"--client applies to a scenario that runs client3.py ({', '.join(loaded_names())}); "
                          f"{', '.join(lacking)} does not")
        # With --all, the scenarios without a load run as they are.
        scenarios = {name: with_client(scenario, args.client) or scenario for name, scenario in scenarios.items()}
    if args.rounds and not args.all:
        plain = [name for name in scenarios if not scenarios[name].repeatable]
        if plain:
            racy = ", ".join(name for name, scenario in catalog.all_scenarios().items() if scenario.repeatable)
            raise Refused(f"--rounds applies only to a racy scenario ({racy}); {plain[0]} is not one")
    return scenarios


def exit_status(rows: list) -> int:
    return common.exit_status(row["verdict"] for row in rows)


def tally(rows: list, repeat: int) -> str:
    """Per scenario, how many of its runs reproduced (`fd-exhaustion 5/5`), and the runs that did not."""
    width = max([len(r["scenario"]) for r in rows] + [8])
    lines = [f"{'scenario':<{width}}  reproduced  not, and how"]
    for name in dict.fromkeys(r["scenario"] for r in rows):
        mine = [r for r in rows if r["scenario"] == name]
        won = sum(1 for r in mine if r["verdict"] is Verdict.REPRODUCED)
        missed = [f"run {r['run']}: {SCENARIO_WORDS(r['verdict'])}" for r in mine
                  if r["verdict"] is not Verdict.REPRODUCED]
        lines.append(f"{name:<{width}}  {f'{won}/{len(mine)}':>10}  {', '.join(missed) or '-'}")
    good = sum(1 for r in rows if r["verdict"] is Verdict.REPRODUCED)
    lines.append(f"{good}/{len(rows)} runs reproduced ({repeat} of each)")
    return "\n".join(lines)


def emit(args, scenarios: dict, out) -> int:
    """--emit kubernetes DIR: each scenario's manifests in DIR (DIR/NAME with --all); no engine is asked."""
    what, folder = args.emit[0], Path(args.emit[1])
    if what != "kubernetes":
        raise Refused(f"--emit writes kubernetes manifests only, not {what!r}: --emit kubernetes DIR")
    if args.limits == LimitsFrom.ENGINE.value:
        raise Refused("Kubernetes has no ulimit field: its manifests take the limits from the entrypoint "
                      "(leave out --limits, or say --limits entrypoint)")
    if args.keep or args.rounds or args.repeat > 1 or args.jobs:
        raise Refused("--keep, --rounds, --repeat and --jobs go with a run, not with --emit")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise Refused(f"{folder} is not an empty folder: each run's manifests go in a folder of their own")
    from scenarios.executor import kubernetes

    for name, scenario in scenarios.items():
        where = folder / name if len(scenarios) > 1 or args.all else folder
        try:
            written = kubernetes.Manifests(scenario, scale=sleep_scale(args))
            files = written.write(where)
        except OSError as exc:
            raise Refused(f"cannot write {where}: {exc.strerror or exc}") from None
        print(f"{name}: {len(files)} files in {where} (namespace {written.namespace}); "
              f"on a cluster: {where / 'run.sh'}", file=out)
    return EXIT_OK


def main(argv=None) -> int:
    return command(PROG, run, argv)


def run(argv) -> int:
    args = build_parser().parse_args(argv)
    out = sys.stdout
    if args.list:
        return list_scenarios(out)
    scenarios = chosen(args)
    if args.trials:
        return list_trials(next(iter(scenarios.values())), out)
    if args.emit:
        return emit(args, scenarios, out)
    at_once = jobs(args)  # a wrong LBAWS_JOBS is said before the engine is asked anything

    # Imported here so --list and usage errors work without the Docker SDK or matplotlib.
    from scenarios.reports import report
    from scenarios.executor.runner import Options
    from scenarios.executor.session import Experiment, Session

    engine, facts = preflight(out, image_roles(scenarios.values()))
    options = Options(scale=sleep_scale(args), keep=args.keep, repeat=args.rounds,
                      reports=args.reports or default_reports(), engine=facts.as_dict(),
                      limits=LimitsFrom(args.limits or LimitsFrom.ENGINE.value))
    several = len(scenarios) * args.repeat > 1
    if args.watch:
        start_watch(args.watch_port, options.reports, None if len(scenarios) > 1 else next(iter(scenarios)), out)
    session = Session(engine, facts, out, at_once if several else 1)
    if several:
        print(f"{len(scenarios) * args.repeat} runs, {at_a_time(session)}", file=out, flush=True)
    # Round after round, so a scenario's repeats are spread out and others run beside each.
    experiments = [Experiment(scenario, options, tag={"run": run + 1} if args.repeat > 1 else {})
                   for run in range(args.repeat) for scenario in scenarios.values()]
    rows = []

    def done(outcome) -> None:
        name = outcome.experiment.scenario.name
        row = {"scenario": name, "verdict": outcome.verdict, "duration_s": outcome.seconds,
               "report": str(outcome.folder / "report.json") if outcome.folder else None}
        if args.repeat > 1:
            row["run"] = outcome.experiment.tag["run"]
        if outcome.result is None:
            from scenarios.executor import preflight as engine_facts

            print(f"{PROG}: {engine_facts.cannot_line(name, list(outcome.cannot))}", file=sys.stderr, flush=True)
            row["why"] = "; ".join(outcome.cannot)
        else:
            lines = [report.verdict_block(outcome.result), f"  report     {outcome.folder}/report.md",
                     f"  page       {outcome.folder}/report.html"]
            if args.keep:
                lines.append(report.keep_instructions(outcome.result))
            session.say("\n".join(lines))
        rows.append(row)

    try:
        with sigterm_as_interrupt():
            outcomes = session.run(experiments, done)
    except KeyboardInterrupt:
        if args.keep and session.started_runs:
            print(f"{PROG}: interrupted; --keep kept run {session.started_runs[-1]}'s containers and network; "
                  f"remove them with: {removal_command(session.started_runs[-1])}", file=sys.stderr)
        else:
            print(f"{PROG}: interrupted; this run's containers and network were removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    order = {name: index for index, name in enumerate(scenarios)}
    rows.sort(key=lambda row: (row.get("run", 1), order[row["scenario"]]))
    if args.repeat > 1:
        print(tally(rows, args.repeat), file=out)
    elif len(rows) > 1:
        print(report.summary_table(rows), file=out)
    if several:
        print(timing_lines(outcomes, session.wall_s, session), file=out)
        print(f"summary: {report.write_summary(rows, options.reports, session.wall_s)}", file=out)
    return exit_status(rows)


if __name__ == "__main__":
    sys.exit(main())
