"""`lbaws scenario`: run one experiment of the text (or all of them) and say whether it reproduced.

    lbaws scenario fd-exhaustion          # one scenario, the text's numbers
    lbaws scenario --list                 # names, one line each, and the section of the text
    lbaws scenario --all                  # every scenario, a final table, reports/summary.json
    lbaws scenario zombies --keep         # leave the containers running to look inside

The sleep-scale knob shortens the text's sleeps (3b's and 3c's 60 s): --sleep-scale F or the
environment variable LBAWS_SLEEP_SCALE; --fast is --sleep-scale 0.1. A single run defaults to 1 (the
text's 60 s), --all to 0.1. Limits and client counts (256, 300, 400, 500, 128) are never scaled.

Exit status: 0 reproduced (every one, with --all), 1 not reproduced, 2 bad arguments or unknown
scenario, 3 no Docker engine or images, 130 interrupted.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

from scenarios import catalog

EXIT_REPRODUCED = 0
EXIT_NOT_REPRODUCED = 1
EXIT_USAGE = 2
EXIT_ENGINE = 3
EXIT_INTERRUPTED = 130
FAST = 0.1


def default_reports() -> Path:
    root = Path(__file__).resolve().parent.parent
    return root / "reports" if (root / "pyproject.toml").exists() else Path.cwd() / "reports"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(EXIT_USAGE, f"lbaws scenario: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="lbaws scenario", description="Reproduce an experiment of 'Let's Build A Web Server'.",
                epilog="Sleep scale: --sleep-scale, else LBAWS_SLEEP_SCALE, else 1 for one run and 0.1 for --all.")
    p.add_argument("name", nargs="?", metavar="NAME", help="the scenario to run (see --list)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="list the scenarios and the text each reproduces")
    what.add_argument("--all", action="store_true", help="run every scenario and print a summary table")
    speed = p.add_mutually_exclusive_group()
    speed.add_argument("--fast", action="store_true", help=f"shorten the text's sleeps (--sleep-scale {FAST})")
    speed.add_argument("--sleep-scale", type=_scale, metavar="F", help="multiply the text's sleeps by F (0 < F <= 1)")
    p.add_argument("--keep", action="store_true",
                   help="leave the containers running and print how to look inside and remove them")
    p.add_argument("--repeat", type=_positive_int, metavar="N",
                   help="runs of a racy scenario (missed-signals; default 5)")
    p.add_argument("--reports", type=Path, default=None, metavar="DIR",
                   help="where reports go (default: reports/ at the project root)")
    p.add_argument("--trials", action="store_true", help="list the scenario's trials (for --server)")
    p.add_argument("--server", action="append", default=[], metavar="TRIAL=PATH",
                   help="run your own server file in that trial's place (python3 PATH [APP]); repeatable")
    p.add_argument("--client", choices=("lab", "text", "repository"), default=None,
                   help="which client3.py every load of the scenario plays (lbaws-client --pattern): the lab's "
                        "(default), the text's listing, or the copy in the text's repository")
    return p


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not in (0, 1]")
    return value


def _positive_int(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 1000")
    return int(text)


def sleep_scale(args) -> float:
    if args.fast:
        return FAST
    if args.sleep_scale is not None:
        return args.sleep_scale
    env = os.environ.get("LBAWS_SLEEP_SCALE")
    if env:
        return _scale(env)
    return FAST if args.all else 1.0


def list_scenarios(out) -> int:
    scenarios = catalog.all_scenarios()
    width = max(len(name) for name in scenarios)
    for name, scenario in scenarios.items():
        print(f"{name:<{width}}  {scenario.summary}", file=out)
        # A scenario beyond the text says so itself, instead of naming a part of it.
        where = scenario.section if scenario.section.startswith("Beyond") else f"text: {scenario.section}"
        print(f"{'':<{width}}  {where}", file=out)
    return 0


def removal_command(run_id: str) -> str:
    """The shell line that removes one run's containers and network, for a run kept with --keep."""
    from lab.inventory import RUN_LABEL, label_filter

    from scenarios.containers import files_folder

    label = label_filter(RUN_LABEL, run_id)
    return (f"docker ps -aq --filter label={label} | xargs -r docker rm -f; "
            f"docker network ls -q --filter label={label} | xargs -r docker network rm; "
            f"rm -rf {files_folder(run_id)}")


def list_trials(scenario, out) -> int:
    width = max(len(trial.key) for trial in scenario.trials)
    for trial in scenario.trials:
        switches = trial.server.lab_only_switches
        note = f"; lab's only ({', '.join(switches)})" if switches else ""
        print(f"{trial.key:<{width}}  stage {trial.server.stage}{' ' + trial.server.app if trial.server.app else ''}"
              f"{' - ' + trial.title if trial.title else ''}{note}", file=out)
    return 0


def with_client(scenario, pattern: str):
    """The scenario with every Load playing `pattern` (spec.ClientPattern's value); None when it has no Load."""
    import dataclasses

    from scenarios import spec

    chosen = spec.ClientPattern(pattern)
    if not any(isinstance(a, spec.Load) for trial in scenario.trials for a in trial.actions):
        return None
    trials = tuple(dataclasses.replace(trial, actions=tuple(
        dataclasses.replace(a, pattern=chosen) if isinstance(a, spec.Load) else a for a in trial.actions))
        for trial in scenario.trials)
    return dataclasses.replace(scenario, trials=trials)


def loaded_names() -> list:
    return [name for name, scenario in catalog.all_scenarios().items() if with_client(scenario, "lab")]


def with_servers(scenario, assignments: list):
    """The scenario with each TRIAL=PATH file in its trial, or a CheckError saying why not."""
    from scenarios.substitute import CheckError, read_server_file, substitute

    keys = [trial.key for trial in scenario.trials]
    for assignment in assignments:
        key, sep, path = assignment.partition("=")
        if not sep or not path:
            raise CheckError(f"--server takes TRIAL=PATH, not {assignment!r}")
        if key not in keys:
            raise CheckError(f"{scenario.name} has no trial {key!r}; its trials: {', '.join(keys)}")
        read_server_file(Path(path))
        sub = substitute(scenario, Path(path), stage=None, only=key)
        if key in sub.kept:
            raise CheckError(f"trial {key} keeps the lab's stage: {sub.kept[key]}")
        scenario = sub.scenario
    return scenario


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


def _terminate(signum, frame):
    # SIGTERM takes the same way out as Ctrl-C: the runner's finally removes this run's containers.
    raise KeyboardInterrupt


def ready_engine(prog: str, out):
    """(engine, None) with the lab's images current, or (None, exit status) after one line on stderr."""
    from lab import images, inventory
    from scenarios import containers

    try:
        engine = containers.connect()
        images.ensure_images(say=lambda line: print(line, file=out, flush=True))
    except inventory.LabError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return None, EXIT_ENGINE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted while building images", file=sys.stderr)
        return None, EXIT_INTERRUPTED
    return engine, None


@contextmanager
def sigterm_as_interrupt():
    """SIGTERM ends a run the way Ctrl-C does, so its cleanup runs."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    out = sys.stdout
    if args.list:
        return list_scenarios(out)
    known = catalog.names()
    if args.all and args.name:
        print("lbaws scenario: give a NAME or --all, not both", file=sys.stderr)
        return EXIT_USAGE
    if not args.all:
        if not args.name:
            print(f"lbaws scenario: which one? valid names: {', '.join(known)}", file=sys.stderr)
            return EXIT_USAGE
        if args.name not in known:
            print(f"lbaws scenario: unknown scenario {args.name!r}; valid names: {', '.join(known)}",
                  file=sys.stderr)
            return EXIT_USAGE
    names = known if args.all else [args.name]
    if (args.trials or args.server) and args.all:
        print("lbaws scenario: --trials and --server go with one NAME, not --all", file=sys.stderr)
        return EXIT_USAGE
    if args.trials:
        return list_trials(catalog.get(args.name), out)
    scenarios = {name: catalog.get(name) for name in names}
    if args.server:
        from scenarios.substitute import CheckError

        try:
            scenarios[args.name] = with_servers(scenarios[args.name], args.server)
        except CheckError as exc:
            print(f"lbaws scenario: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if args.client:
        if not args.all and with_client(scenarios[args.name], args.client) is None:
            print(f"lbaws scenario: --client applies to a scenario that runs client3.py "
                  f"({', '.join(loaded_names())}); {args.name} does not", file=sys.stderr)
            return EXIT_USAGE
        # With --all, the scenarios without a load run as they are.
        scenarios = {name: with_client(scenario, args.client) or scenario for name, scenario in scenarios.items()}
    if args.repeat and not args.all and not catalog.get(args.name).repeatable:
        racy = ", ".join(name for name, scenario in catalog.all_scenarios().items() if scenario.repeatable)
        print(f"lbaws scenario: --repeat applies only to a racy scenario ({racy}); {args.name} is not one",
              file=sys.stderr)
        return EXIT_USAGE

    # Imported here so --list and usage errors work without the Docker SDK or matplotlib.
    from scenarios import report
    from scenarios.progress import Progress
    from scenarios.runner import Options, ScenarioRunner

    options = Options(scale=sleep_scale(args), keep=args.keep, repeat=args.repeat,
                      reports=args.reports or default_reports())
    engine, failed = ready_engine("lbaws scenario", out)
    if engine is None:
        return failed
    rows = []
    runner = None
    try:
        with sigterm_as_interrupt():
            for name in names:
                runner = ScenarioRunner(scenarios[name], options, Progress(out), engine=engine)
                result = runner.run()
                folder = report.write(result)
                print(report.verdict_block(result), file=out)
                print(f"  report     {folder}/report.md", file=out)
                if args.keep:
                    print(keep_instructions(result), file=out)
                rows.append({"scenario": name, "verdict": result.verdict.word,
                             "duration_s": result.duration_s, "report": str(folder / "report.json")})
    except KeyboardInterrupt:
        if args.keep and runner is not None:
            print(f"lbaws scenario: interrupted; --keep kept run {runner.run_id}'s containers and network; "
                  f"remove them with: {removal_command(runner.run_id)}", file=sys.stderr)
        else:
            print("lbaws scenario: interrupted; this run's containers and network were removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.all:
        print(report.summary_table(rows), file=out)
        print(f"summary: {report.write_summary(rows, options.reports)}", file=out)
    reproduced = all(row["verdict"] == "REPRODUCED" for row in rows)
    return EXIT_REPRODUCED if reproduced else EXIT_NOT_REPRODUCED


if __name__ == "__main__":
    sys.exit(main())
