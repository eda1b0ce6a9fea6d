"""`lbaws bench`: lbaws's servers against gunicorn (sync, gthread), waitress, cheroot, wsgiref and the
native granian, measured by wrk side by side.

    lbaws bench                       # every server, app, mode and connection count: 3 rounds of 5 s each
    lbaws bench --quick               # 1 s runs, wsgiapp at 32 connections: that every server serves
    lbaws bench --server lbaws-prefork --server gunicorn-gthread --app wsgi --connections 32
    lbaws bench --cpus 1,2            # every server on one CPU and on two, ratios within the same run
    lbaws bench --loopback            # host processes on 127.0.0.1 instead of containers

Each server runs pinned to its CPUs and wrk to the next one; each figure is the median of the interleaved
rounds, printed with its min-max. Before measuring, each server is asked whether it keeps a connection
(two requests on one socket); keep-alive ratios are taken only among the servers that do. Writes
bench.json and bench.png to reports/bench/ (--reports DIR).

Exit status: 0 every server produced numbers, 1 some did not, 2 bad arguments, 3 no Docker engine or
images (or no wrk on the host, with --loopback), 130 interrupted.
"""
from __future__ import annotations

import secrets
import sys
from pathlib import Path

from bench import servers
from commands.common import (EXIT_ENGINE, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Parser, Refused,
                             default_reports as lab_reports, ready_engine, restore_interrupt, sigterm_as_interrupt,
                             whole_number)

PROG = "lbaws bench"
FULL = {"apps": tuple(servers.APPS), "connections": servers.CONNECTIONS, "duration": 5, "warmup": True}
# That every server serves and every file is written, in well under a minute and a half: the bare app only.
QUICK = {"apps": ("wsgi",), "connections": (32,), "duration": 1, "warmup": False}
MIN_ROUNDS = 3
MAX_DURATION = 120
MAX_CPUS = 64


def cpu_counts(text: str) -> tuple:
    """'1,2' -> (1, 2): the CPU counts every server runs with."""
    import argparse

    try:
        counts = tuple(sorted({int(part) for part in text.split(",")}))
    except ValueError:
        counts = ()
    if not counts or not all(1 <= count <= MAX_CPUS for count in counts):
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of CPU counts from 1 to {MAX_CPUS}, such as 1,2")
    return counts


def build_parser() -> Parser:
    p = Parser(prog=PROG, description="Measure lbaws against gunicorn, waitress, cheroot, wsgiref and granian with wrk.",
                epilog=f"servers: {', '.join(servers.SERVERS_BY_NAME)}; apps: {', '.join(servers.APPS)}; "
                       f"modes: {', '.join(servers.MODES)}")
    p.add_argument("--quick", action="store_true",
                   help=f"{QUICK['duration']} s runs, the bare WSGI app at {QUICK['connections'][0]} connections, "
                        f"no warm-up")
    p.add_argument("--server", action="append", default=[], metavar="NAME", help="only this server (repeatable)")
    p.add_argument("--app", action="append", default=[], metavar="NAME", help="only this app (repeatable)")
    p.add_argument("--mode", action="append", default=[], metavar="MODE", help="only this mode (repeatable)")
    p.add_argument("--connections", action="append", default=[], metavar="N",
                   type=whole_number(1, 1000), help="only this many connections (repeatable)")
    p.add_argument("--rounds", type=whole_number(MIN_ROUNDS, 50), default=MIN_ROUNDS, metavar="N",
                   help=f"interleaved rounds per figure (default and least {MIN_ROUNDS})")
    p.add_argument("--duration", type=whole_number(1, MAX_DURATION), metavar="S",
                   help=f"seconds per wrk run (default {FULL['duration']}, {QUICK['duration']} with --quick)")
    p.add_argument("--cpus", type=cpu_counts, default=servers.CPUS, metavar="N[,N...]",
                   help="CPUs each server gets; 1,2 runs every server on one and on two (default 1)")
    p.add_argument("--loopback", action="store_true",
                   help="run the servers and wrk as host processes on 127.0.0.1, each pinned to a CPU")
    p.add_argument("--reports", type=Path, default=None, metavar="DIR",
                   help="where bench.json and bench.png go (default: reports/bench at the project root)")
    return p


def default_reports() -> Path:
    return lab_reports() / "bench"


def _choose(given: list, known, what: str, default=None):
    """The names given (in the known order), else default or all; an unknown name is a usage error."""
    unknown = [name for name in given if name not in known]
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r}; {what}s: {', '.join(known)}")
    return tuple(name for name in known if name in given) if given else tuple(default or known)


def settings(args):
    from bench.run import Settings

    preset = QUICK if args.quick else FULL
    return Settings(servers=_choose(args.server, servers.SERVERS_BY_NAME, "server"),
                    apps=_choose(args.app, servers.APPS, "app", preset["apps"]),
                    modes=_choose(args.mode, servers.MODES, "mode"),
                    connections=tuple(sorted(set(args.connections))) or preset["connections"],
                    rounds=args.rounds, duration_s=args.duration or preset["duration"], warmup=preset["warmup"],
                    cpus=args.cpus)


def say(line: str) -> None:
    print(line, flush=True)


def main(argv=None) -> int:
    restore_interrupt()
    args = build_parser().parse_args(argv)
    try:
        chosen = settings(args)
    except ValueError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    place, failed = _place(args)
    if place is None:
        return failed
    from bench import report, run

    try:
        with sigterm_as_interrupt():
            try:
                results = run.run(place, chosen, say)
            finally:
                place.close()
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; this run's servers and network were removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except place.engine_errors as exc:
        print(f"{PROG}: the Docker engine failed during the run ({type(exc).__name__}: {exc}); "
              f"this run's servers and network were removed", file=sys.stderr)
        return EXIT_ENGINE
    table_rows = report.rows(results)
    print(f"\nlbaws bench on the {place.where}: wrk {results.wrk_version}, 1 thread; each figure the median of "
          f"{chosen.rounds} interleaved rounds of {chosen.duration_s} s, (min-max) beside it; errors summed over "
          f"the rounds; kept: the server answered two requests on one connection; x best peer: requests/s over "
          f"the fastest pure-Python peer's, x {servers.ANCHOR}: over {servers.ANCHOR}'s, same CPUs and same run "
          f"(keep-alive: only among servers that kept the connection)")
    print(report.table(table_rows))
    for line in report.headline(table_rows):
        print(f"headline: {line}")
    for instance, line in results.shares.items():
        print(f"shares: {instance.alias}: {line}")
    problems = report.failures(table_rows)
    for line in problems:
        print(f"FAILED {line}")
    try:
        data, image = report.write(args.reports or default_reports(), results, table_rows, place)
    except OSError as exc:
        print(f"{PROG}: cannot write the reports: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"bench: {data}\nbench: {image}\nbench: took {results.duration_s:.0f} s")
    return EXIT_FAILED if problems else EXIT_OK


def _place(args):
    """(where the servers run, None), or (None, exit status) after one line on stderr."""
    run_id = secrets.token_hex(3)
    if args.loopback:
        from bench.loopback import Loopback, LoopbackMissing

        try:
            return Loopback.checked(run_id, max(args.cpus)), None
        except LoopbackMissing as exc:
            print(f"{PROG}: {exc}", file=sys.stderr)
            return None, EXIT_ENGINE
    from bench.containers import LabNetwork

    # Its servers run in the bench image, wrk in the client's.
    try:
        engine = ready_engine(sys.stdout, ("bench", "client"))
    except Refused as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return None, exc.status
    return LabNetwork(engine, run_id, max(args.cpus)), None


if __name__ == "__main__":
    sys.exit(main())
