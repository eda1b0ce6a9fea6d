"""`lbaws watch`: the live page of the runs under a reports folder, served by the lab's pre-fork server.

    lbaws watch                      # http://127.0.0.1:8765/ for reports/
    lbaws watch --port 9000 --reports ci-artifacts/reports

It runs `lbaws serve prefork watch.app:app` on 127.0.0.1 as its child (the master and its workers are
its process tree) until Ctrl-C or SIGTERM, which stop them all.

Exit status: 0 stopped by Ctrl-C or SIGTERM after serving, 1 the port is in use or the server did not
start, 2 bad arguments.
"""
from __future__ import annotations

import sys
from pathlib import Path

from commands.common import (EXIT_FAILED, EXIT_OK, Parser, Refused, command, default_reports, sigterm_as_interrupt,
                             whole_number)
from watch import launch

PROG = "lbaws watch"


def build_parser() -> Parser:
    p = Parser(prog=PROG, description="Serve the live page of the lab's runs on 127.0.0.1.",
               epilog="Exit status: 0 stopped after serving, 1 the port is in use or the server did not start, "
                      "2 bad arguments.")
    p.add_argument("--port", type=whole_number(0, 65535), default=launch.DEFAULT_PORT, metavar="N",
                   help=f"port on 127.0.0.1 (default {launch.DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--reports", type=Path, default=None, metavar="DIR",
                   help="the runs to show (default: reports/ at the project root)")
    p.add_argument("--workers", type=whole_number(1, 16), default=launch.WORKERS, metavar="N",
                   help=f"worker processes of the pre-fork server (default {launch.WORKERS})")
    return p


def main(argv=None) -> int:
    return command(PROG, run, argv)


def run(argv) -> int:
    args = build_parser().parse_args(argv)
    reports = args.reports or default_reports()
    if args.reports is not None and not reports.is_dir():
        raise Refused(f"--reports {reports}: no such folder")
    reports.mkdir(parents=True, exist_ok=True)
    port = args.port or launch.free_port()
    server = None
    try:
        with sigterm_as_interrupt():
            launch.check_port(port)
            server = launch.start_server(port, reports, args.workers)
            print(f"{PROG}: {launch.url(port)} shows the runs under {reports.resolve()} "
                  f"(lbaws serve prefork, master PID {server.pid}, {args.workers} workers; Ctrl-C stops it)",
                  flush=True)
            server.wait()
            print(f"{PROG}: the page's server exited ({server.returncode})", file=sys.stderr)
            return EXIT_FAILED
    except launch.WatchError as exc:
        raise Refused(str(exc), EXIT_FAILED) from None
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        if server is not None:
            launch.stop(server)


if __name__ == "__main__":
    sys.exit(main())
