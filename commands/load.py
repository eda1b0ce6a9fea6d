"""`lbaws load`: the fixed stages under load, in containers with nofile=1024: every request answered,
no zombie, the server's descriptors back where they started (the experiment: scenarios/catalog/load.py).

    lbaws load                                   # 10,000 requests, 256 at a time, against 3g, 3h and prefork
    lbaws load --requests 1000 --stages 3h       # smaller, one stage

Not an experiment of the text (those are `lbaws scenario`): the same runner, probes and reports, asked
whether the text's fixes hold far past its 128 clients. Exit status: 0 held, 1 did not, 2 bad
arguments, 3 no Docker engine or images, 5 ERROR (a fault of the harness or engine), 130 interrupted.
"""
from __future__ import annotations

import argparse
import sys

from commands.common import (EXIT_ERROR, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Parser, command, default_reports,
                             image_roles, ready_engine, sigterm_as_interrupt, whole_number)
from scenarios.catalog.load import CONCURRENCY, REQUESTS, STAGES, load_scenario

PROG = "lbaws load"


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
    return command(PROG, run, argv)


def run(argv) -> int:
    from pathlib import Path

    from scenarios.reports import report
    from scenarios.executor.runner import Options
    from scenarios.executor.session import Experiment, Session
    from scenarios.vocabulary.verdict import LOAD_WORDS, Verdict

    args = build_parser().parse_args(argv)
    out = sys.stdout
    scenario = load_scenario(args.requests, args.concurrency, args.stages)
    engine = ready_engine(out, image_roles([scenario]))
    options = Options(keep=args.keep, reports=Path(args.reports) if args.reports else default_reports())
    # One experiment, alone: it measures whether the fixes hold under load, so nothing runs beside it.
    session = Session(engine, None, out, jobs=1)
    try:
        with sigterm_as_interrupt():
            outcome, = session.run([Experiment(scenario, options, LOAD_WORDS)])
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; this run's containers and network were removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    result = outcome.result
    print(report.verdict_block(result, LOAD_WORDS), file=out)
    print(f"  report     {outcome.folder}/report.md", file=out)
    print(f"  page       {outcome.folder}/report.html", file=out)
    if args.keep:
        print(report.keep_instructions(result), file=out)
    if result.verdict.verdict is Verdict.ERROR:
        return EXIT_ERROR
    return EXIT_OK if result.verdict.reproduced else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
