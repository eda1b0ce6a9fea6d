"""What every command of the harness shares: its exit codes, its argument parser and validators, the
engine made ready, the preflight, and the way Ctrl-C and SIGTERM end a run.

Each command's module holds only what is its own; none of them imports another command.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

EXIT_OK = 0  # reproduced, behaves as the stage, held, measured
EXIT_FAILED = 1  # not reproduced, differs, did not hold, a server gave no figures
EXIT_USAGE = 2  # bad arguments, an unknown name, a file the lab cannot run
EXIT_ENGINE = 3  # no Docker engine, or its images could not be built
EXIT_CANNOT = 4  # this engine cannot reproduce it (lbaws doctor says why)
EXIT_ERROR = 5  # a fault of the harness or the engine during a run, not a verdict on a server
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM


def exit_status(verdicts) -> int:
    """The exit status of a run of experiments: a fault of the harness first, then any verdict but
    REPRODUCED; 4 only when the engine could run none of them."""
    from scenarios.vocabulary.verdict import Verdict

    ran = [verdict for verdict in verdicts if verdict is not Verdict.CANNOT]
    if not ran:
        return EXIT_CANNOT
    if Verdict.ERROR in ran:
        return EXIT_ERROR
    return EXIT_OK if all(verdict is Verdict.REPRODUCED for verdict in ran) else EXIT_FAILED


def default_reports() -> Path:
    """reports/ at the project root in a checkout, else in the working directory."""
    root = Path(__file__).resolve().parent.parent
    return root / "reports" if (root / "pyproject.toml").exists() else Path.cwd() / "reports"


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one `PROG: message` line and exit status 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def whole_number(low: int, high: int):
    """An argparse type: a whole number from low to high."""
    def convert(text: str) -> int:
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from {low} to {high}")
        return int(text)
    return convert


def fraction(text: str) -> float:
    """An argparse type: a number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not in (0, 1]")
    return value


class Refused(Exception):
    """The command ends here, in one line on stderr (`PROG: message`) and with this exit status."""

    def __init__(self, message: str, status: int = EXIT_USAGE):
        super().__init__(message)
        self.status = status


def command(prog: str, body, argv=None) -> int:
    """Run a command's body: Ctrl-C restored, a Refused said in one line and turned into its status."""
    restore_interrupt()
    try:
        return body(argv)
    except Refused as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return exc.status
    except Exception as exc:
        from scenarios.executor.session import Failed

        if not isinstance(exc, Failed):
            raise
        print(f"{prog}: a fault of the harness, which says nothing about the servers: {exc}", file=sys.stderr)
        return EXIT_ERROR


def restore_interrupt() -> None:
    """Ctrl-C raises KeyboardInterrupt even when we were started with SIGINT ignored.

    A shell starts a background job (`cmd &`, nohup, a script's `&`) with SIGINT ignored, and Python
    keeps an inherited SIG_IGN: such a run could not be stopped with kill -INT and would leave its
    containers behind on a terminal's Ctrl-C.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _terminate(signum, frame):
    # SIGTERM takes the same way out as Ctrl-C: the runner's finally removes this run's containers.
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_interrupt():
    """SIGTERM ends a run the way Ctrl-C does, so its cleanup runs."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


JOBS = whole_number(1, 64)


def add_jobs(parser: Parser, what: str) -> None:
    parser.add_argument("--jobs", type=JOBS, default=None, metavar="N",
                        help=f"{what} side by side (default: LBAWS_JOBS, else two per core, of which floods one "
                             "more than the cores; 1 runs them one at a time)")


def chosen_jobs(args) -> int:
    """--jobs, else LBAWS_JOBS (a CI runner shared with other work, a test suite running several commands
    at once), else two per core."""
    from scenarios.executor.session import default_jobs

    if args.jobs:
        return args.jobs
    env = os.environ.get("LBAWS_JOBS")
    if not env:
        return default_jobs()
    try:
        return JOBS(env)
    except argparse.ArgumentTypeError as wrong:
        raise Refused(f"LBAWS_JOBS: {wrong}") from None


def at_a_time(session) -> str:
    """How many experiments ran side by side, and how many floods among them at most."""
    if session.jobs == 1:
        return "1 at a time"
    return f"{session.jobs} at a time" + (f", floods {session.floods}" if session.floods < session.jobs else "")


def timing_lines(outcomes, wall_s: float, session) -> str:
    """Where the time went: each experiment's own time, longest first, and the wall time of the whole."""
    own = sorted(outcomes, key=lambda outcome: outcome.seconds, reverse=True)
    width = max([len(label) for label, _ in own_labels(own)] + [10])
    lines = ["time", *[f"  {label:<{width}}  {seconds:7.1f}s" for label, seconds in own_labels(own)]]
    total = sum(outcome.seconds for outcome in outcomes)
    lines.append(f"  {len(outcomes)} experiment{'s' if len(outcomes) != 1 else ''}: {total:.1f}s of their own, "
                 f"{wall_s:.1f}s wall, {at_a_time(session)}")
    return "\n".join(lines)


def own_labels(outcomes) -> list:
    """(label, seconds) per outcome: its scenario's name, with the file it checked or its repeat."""
    labelled = []
    for outcome in outcomes:
        tag = outcome.experiment.tag
        label = outcome.experiment.scenario.name
        if isinstance(tag, dict) and tag.get("label"):
            label = f"{tag['label']} {label}"
        if isinstance(tag, dict) and tag.get("run"):
            label = f"{label} run {tag['run']}"
        labelled.append((label, outcome.seconds))
    return labelled


def image_roles(scenarios) -> set[str]:
    """The image roles the scenarios' containers run: each server's (and neighbour's) and the client's."""
    roles = {"client"}
    for scenario in scenarios:
        for trial in scenario.trials:
            roles.add(trial.server.image)
            if trial.neighbour:
                roles.add(trial.neighbour.server.image)
    return roles


def ready_engine(out, roles=None):
    """The engine, with the images of roles current (None: every lab image); else Refused. A first run
    builds only what it starts, the rest when it is needed."""
    from lab import images, inventory, priority

    try:
        priority.cpu_shares()  # a weight the engine would refuse, said before anything starts
    except priority.PriorityError as exc:
        raise Refused(str(exc)) from None
    try:
        engine = inventory.connect(timeout=120)
        images.ensure_images(say=lambda line: print(line, file=out, flush=True), roles=roles)
    except inventory.LabError as exc:
        raise Refused(str(exc), EXIT_ENGINE) from None
    except KeyboardInterrupt:
        raise Refused("interrupted while building images", EXIT_INTERRUPTED) from None
    return engine


def preflight(out, roles=None):
    """(engine, facts) for a run of experiments, else Refused: the engine with its images current, and
    what kind of engine it is (scenarios.executor.preflight), printed in one line at the head of the run."""
    engine = ready_engine(out, roles)
    from scenarios.executor import preflight as engine_facts

    facts = engine_facts.gather(engine)
    print(facts.summary(), file=out)
    return engine, facts


WATCH_PORT = 8765  # watch.launch.DEFAULT_PORT, named here so a parser is built without importing the page


def add_watch(parser: Parser) -> None:
    parser.add_argument("--watch", action="store_true",
                        help="show the run live on the lab's page (lbaws watch), started if it is not running")
    parser.add_argument("--watch-port", type=whole_number(1, 65535), default=WATCH_PORT, metavar="N",
                        help=f"the page's port on 127.0.0.1 (default {WATCH_PORT})")


def start_watch(port: int, reports: Path, name: str | None, out) -> None:
    """The page's URL printed, its `lbaws watch` started if none served; Refused if it cannot."""
    from watch import launch

    try:
        address, started = launch.ensure(port, Path(reports))
    except launch.WatchError as exc:
        raise Refused(f"--watch: {exc}", EXIT_FAILED) from None
    page = f"{address}run/{name}" if name else address
    how = (f"started lbaws watch, PID {started}; it stays for the class: stop it with kill {started}" if started
           else "lbaws watch was already serving")
    print(f"watch: {page}  ({how})", file=out, flush=True)
