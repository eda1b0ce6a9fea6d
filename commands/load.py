"""`lbaws load`: the fixed stages under load, in containers with nofile=1024: every request answered,
no zombie, the server's descriptors back where they started.

    lbaws load                                   # 10,000 requests, 256 at a time, against 3g, 3h and prefork
    lbaws load --requests 1000 --stages 3h       # smaller, one stage

Not an experiment of the text (those are `lbaws scenario`): the same runner, probes and reports, asked
whether the text's fixes hold far past its 128 clients. Exit status: 0 held, 1 did not, 2 bad
arguments, 3 no Docker engine or images, 5 ERROR (a fault of the harness or engine), 130 interrupted.
"""
from __future__ import annotations

import argparse
import sys

from commands.common import (EXIT_ERROR, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Parser, default_reports,
                             image_roles, ready_engine, restore_interrupt, sigterm_as_interrupt, whole_number)

from scenarios.spec import Limits, Load, Pause, Scenario, ServerSpec, Settle, Snapshot, Trial, Until
from scenarios.verdict import Judgment

REQUESTS = 10_000
CONCURRENCY = 256
LIMITS = Limits(nofile=1024, nproc=2048, memory="2g")
# How a stage is done after the load: a forking stage once no child lives (a zombie left then is one
# for good); a stage whose workers live on would only wait for a pause.
CHILDREN_DONE = Settle(until=Until.NO_LIVE_CHILDREN, quiet=1.0, timeout=60)
# prefork's workers live on: a short pause lets them close the last connections before the count.
WORKERS_IDLE = Pause(seconds=2.0)
# The stages under test, one trial each, with how each settles; a new fixed stage is one more entry.
STAGES = {
    "3g": (ServerSpec(stage="3g", limits=LIMITS), CHILDREN_DONE),
    "3h": (ServerSpec(stage="3h", app="wsgiapp:app", image="wsgi", limits=LIMITS), CHILDREN_DONE),
    "prefork": (ServerSpec(stage="prefork", app="wsgiapp:app", image="wsgi", limits=LIMITS), WORKERS_IDLE),
}
FAILURES = ("refused", "timed_out", "reset", "errors", "unended")
# What one request may take before it counts as failed: 256 at a time queue for a server that forks
# some 40 to 200 times a second on two shared cores, so the client's default of 10 s would count
# slow answers as failures.
READ_TIMEOUT = 60.0
PROG = "lbaws load"


def judge_load(requests: int):
    def judge(obs) -> Judgment:
        parts, numbers, ok = [], {}, True
        for key, runs in obs.trials.items():
            record = runs[0]
            load = record.load()
            answered = int(load.summary.get("status_counts", {}).get("200", 0)) if load.summary else 0
            failed = requests - answered
            zombies = record.last_alive().zombies
            before, after = record.baseline_fds, record.final_fds
            held = (not record.died and load.exit == 0 and failed == 0
                    and all(load.count(name) == 0 for name in FAILURES)
                    and zombies == 0 and before is not None and after == before)
            ok = ok and held
            parts.append(f"{key}: {answered}/{requests} answered, {failed} failed, peak {load.count('max_concurrent_open')}"
                         f" open, {zombies} zombies after, descriptors {before} -> {after}, {load.wall_s:.1f} s")
            numbers.update({f"{key}_requests": requests, f"{key}_answered": answered, f"{key}_failed": failed,
                            **{f"{key}_{name}": load.count(name) for name in FAILURES},
                            f"{key}_peak_concurrent": load.count("max_concurrent_open"),
                            f"{key}_zombies_after": zombies, f"{key}_peak_zombies": record.peak("zombies"),
                            f"{key}_peak_live_children": record.peak("live"),
                            f"{key}_baseline_fds": before, f"{key}_final_fds": after,
                            f"{key}_seconds": load.wall_s})
        return Judgment.of(reproduced=ok, observed="; ".join(parts) + ".", numbers=numbers)
    return judge


def load_scenario(requests: int = REQUESTS, concurrency: int = CONCURRENCY, stages=tuple(STAGES)) -> Scenario:
    # Bounded, yet far above what a working server needs (some 40 to 200 requests/s on two shared cores).
    deadline = 60 + requests / 10
    return Scenario(
        name="load",
        section="Part 3: webserver3g.py and webserver3h.py, far past the text's 128 clients",
        summary=f"{requests} requests, {concurrency} at a time, nofile={LIMITS.nofile}: "
                "all answered, no zombie, descriptors back to start",
        prediction=(f"The fixed stages answer all {requests} requests with no failure, leave no zombie, "
                    "and end with the descriptors they started with."),
        why=("waitpid(-1, WNOHANG) in a loop reaps every finished child whatever the number of SIGCHLDs, and "
             "the parent closes its copy of each client socket (prefork's workers close each connection they "
             "are done with), so neither processes nor descriptors pile up however long the load lasts."),
        trials=tuple(
            Trial(stage, STAGES[stage][0],
                  (Load(clients=concurrency, requests=requests, deadline=deadline, connect_timeout=READ_TIMEOUT,
                        read_timeout=READ_TIMEOUT),
                   STAGES[stage][1], Snapshot(key="after")),
                  title=f"{requests} requests, {concurrency} at a time")
            for stage in stages),
        judge=judge_load(requests),
    )


def _stages(text: str) -> tuple:
    chosen = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in chosen if name not in STAGES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"{text!r}: the stages under load are {', '.join(STAGES)}")
    return chosen


def build_parser() -> Parser:
    from lbaws.client.command import MAX_CLIENTS, MAX_CONNECTIONS

    p = Parser(prog=PROG, description="The fixed stages under load in containers with nofile=1024.")
    p.add_argument("--requests", type=whole_number(1, MAX_CONNECTIONS), default=REQUESTS,
                   help=f"requests per stage (default {REQUESTS})")
    p.add_argument("--concurrency", type=whole_number(1, MAX_CLIENTS), default=CONCURRENCY,
                   help=f"connections at a time (default {CONCURRENCY})")
    p.add_argument("--stages", type=_stages, default=tuple(STAGES), help=f"comma-separated (default {','.join(STAGES)})")
    p.add_argument("--keep", action="store_true", help="leave the containers running to look inside")
    p.add_argument("--reports", default=None, metavar="DIR", help="where the report goes (default: reports/)")
    return p


def main(argv=None) -> int:
    from pathlib import Path

    from scenarios import report
    from scenarios.progress import Progress
    from scenarios.runner import Options, ScenarioRunner
    from scenarios.verdict import LOAD_WORDS, Verdict

    restore_interrupt()
    args = build_parser().parse_args(argv)
    out = sys.stdout
    scenario = load_scenario(args.requests, args.concurrency, args.stages)
    engine, failed = ready_engine(PROG, out, image_roles([scenario]))
    if engine is None:
        return failed
    options = Options(keep=args.keep, reports=Path(args.reports) if args.reports else default_reports())
    try:
        with sigterm_as_interrupt():
            result = ScenarioRunner(scenario, options, Progress(out), engine=engine).run()
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; this run's containers and network were removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    folder = report.write(result, LOAD_WORDS)
    print(report.verdict_block(result, LOAD_WORDS), file=out)
    print(f"  report     {folder}/report.md", file=out)
    print(f"  page       {folder}/report.html", file=out)
    if args.keep:
        print(report.keep_instructions(result), file=out)
    if result.verdict.verdict is Verdict.ERROR:
        return EXIT_ERROR
    return EXIT_OK if result.verdict.reproduced else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
