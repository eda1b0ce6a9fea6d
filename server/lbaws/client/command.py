"""lbaws-client: the tutorial's client3.py, bounded and counting.

    lbaws-client --max-clients 300            # the text's command: 300 connections
    lbaws-client --max-clients 4 --max-conns 3 --read --hold 5 --json
    lbaws-client --max-clients 300 --pattern repository   # the copy readers download
    lbaws-client --max-clients 256 --requests 10000       # load: 256 at a time, 10000 in all
    lbaws-client --max-clients 8 --pattern keep-alive --hold 10 --rate 200 --json

Exit codes: 0 the run finished; 1 a client could not be forked or crashed;
2 bad arguments, URL or host; 3 the deadline stopped the run; 128+N stopped
by signal N (SIGINT, SIGTERM); 141 (128+SIGPIPE) stdout was closed before the
summary could be written. The summary is printed in every case but 2 and 141.
"""

import argparse
import os
import signal
import sys
import time

from . import summary
from .parent import ClientParent
from .target import TargetError, resolve
from .worker import KEEP_ALIVE, LAB, PATTERNS, REPOSITORY, TEXT, Plan

DEFAULT_URL = "http://localhost:8888/hello"
MAX_CLIENTS = 2000
MAX_CONNS = 1024          # client3.py's default, now a ceiling
TEXT_CONNS = MAX_CONNS    # the listing's --max-conns default
MAX_CONNECTIONS = 20000   # clients x conns: the parent keeps a record of each
MAX_SECONDS = 3600.0

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_DEADLINE = 3
EXIT_PIPE = 128 + signal.SIGPIPE


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, not argparse's usage block: scripts and tests read it.
        self.exit(EXIT_USAGE, "%s: error: %s\n" % (self.prog, message))


def _bounded(kind, low, high, low_open=False):
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError("not a number: %r" % text) from None
        if value != value or value < low or (low_open and value == low) or value > high:
            raise argparse.ArgumentTypeError(
                "%s must be %s %s and at most %s" % (text, ">" if low_open else ">=", low, high))
        return value
    return convert


def build_parser():
    p = _Parser(prog="lbaws-client", description="Test client for LSBAWS (client3.py), bounded.",
                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--max-clients", type=_bounded(int, 1, MAX_CLIENTS), default=1,
                   help="client processes to fork")
    p.add_argument("--max-conns", type=_bounded(int, 1, MAX_CONNS), default=1,
                   help="connections each client opens and holds. The text's client3.py defaults to "
                        "%d, but with its own --max-clients=300 that is %d connections, past this "
                        "client's bound of %d in all, so the default stays 1"
                        % (TEXT_CONNS, 300 * TEXT_CONNS, MAX_CONNECTIONS))
    p.add_argument("--pattern", choices=PATTERNS, default=LAB,
                   help="%s: each client opens its --max-conns connections, goes on past a failed one "
                        "and holds them for --hold; %s: the text's listing, the same but a failed "
                        "socket, connect or send stops the client, as the exception kills the text's "
                        "child; %s: the copy in the text's repository, whose os._exit(0) is inside "
                        "the loop: each client opens one connection, sends the request and exits at "
                        "once, closing it (no --max-conns, no --hold); %s (beyond the text): each "
                        "client keeps one connection and sends request after request on it for "
                        "--hold seconds, reading each response, --rate requests per second over all "
                        "clients, and opens a new connection whenever the server closes it (counted "
                        "as reconnects, with per-second figures)" % (LAB, TEXT, REPOSITORY, KEEP_ALIVE))
    p.add_argument("--requests", type=_bounded(int, 1, MAX_CONNECTIONS), default=0,
                   help="load: this many requests in all, shared out over the --max-clients, each "
                        "client sending its next one once it has read and closed the last (implies "
                        "--read; instead of --max-conns and --hold). 0: off")
    p.add_argument("--url", default=DEFAULT_URL, help="http://host:port/path to request")
    p.add_argument("--hold", type=_bounded(float, 0, MAX_SECONDS), default=0.0,
                   help="seconds each client keeps its sockets open after sending (and reading); "
                        "a client left with none open, or whose every connection the server has "
                        "closed or reset (it answered and closed, or died), leaves at once")
    p.add_argument("--rate", type=_bounded(float, 0, 1e6), default=0.0,
                   help="connections started per second over all clients; 0: as fast as possible")
    p.add_argument("--read", action="store_true",
                   help="read each response (client3.py does not)")
    p.add_argument("--connect-timeout", type=_bounded(float, 0, MAX_SECONDS, low_open=True),
                   default=10.0, help="seconds for one connect()")
    p.add_argument("--connect-patience", type=_bounded(float, 0, MAX_SECONDS), default=0.0,
                   help="seconds in all to keep trying one connection: a connect() that timed out is "
                        "tried again on a new socket, as client3.py waits while a full backlog drops its "
                        "SYNs. 0: give up at the first timeout")
    p.add_argument("--read-timeout", type=_bounded(float, 0, MAX_SECONDS, low_open=True),
                   default=10.0, help="seconds to wait for one whole response with --read")
    p.add_argument("--deadline", type=_bounded(float, 0, MAX_SECONDS, low_open=True),
                   default=120.0, help="seconds after which every client is stopped")
    p.add_argument("--json", action="store_true",
                   help="print the summary as one JSON line on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.pattern == REPOSITORY and args.max_conns != 1:
        parser.error("--pattern repository opens one connection per client (its os._exit(0) is "
                     "inside the loop): --max-conns does not apply")
    if args.pattern == REPOSITORY and args.hold:
        parser.error("--pattern repository exits right after sending: --hold does not apply")
    if args.requests and (args.max_conns != 1 or args.hold or args.pattern != LAB):
        parser.error("--requests closes each connection once answered: --max-conns, --hold and "
                     "--pattern do not apply")
    if args.pattern == KEEP_ALIVE and (args.max_conns != 1 or not args.hold):
        parser.error("--pattern keep-alive keeps one connection per client for --hold seconds: "
                     "give --hold, and no --max-conns")
    if args.max_clients * args.max_conns > MAX_CONNECTIONS:
        parser.error("--max-clients x --max-conns is %d, more than %d"
                     % (args.max_clients * args.max_conns, MAX_CONNECTIONS))
    try:
        target = resolve(args.url)
    except TargetError as exc:
        parser.error(str(exc))

    t0 = time.monotonic()
    per_client = -(-args.requests // args.max_clients) if args.requests else args.max_conns
    plan = Plan(target=target, max_conns=per_client, hold=args.hold, rate=args.rate,
                read=args.read or bool(args.requests), connect_timeout=args.connect_timeout,
                read_timeout=args.read_timeout, t0=t0, deadline=t0 + args.deadline,
                pattern=args.pattern, total=args.requests, clients=args.max_clients,
                connect_patience=args.connect_patience)
    progress = None if args.quiet else _stderr_progress()
    if progress:
        what = ("%d requests, %d at a time" % (args.requests, args.max_clients) if args.requests
                else "%d clients x %d connections" % (args.max_clients, args.max_conns))
        progress("%s to %s%s" % (what, args.url, "" if args.pattern == LAB else " (pattern %s)" % args.pattern))
    result = ClientParent(plan, args.max_clients, progress=progress).run()

    try:
        print(summary.to_json(result) if args.json else summary.to_text(result), flush=True)
    except BrokenPipeError:
        # The reader left (`| head -c0`): say so once, like a tool killed by SIGPIPE,
        # and point stdout at /dev/null so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        _warn("stdout closed, summary not written")
        return EXIT_PIPE
    return exit_code(result)


def _warn(line):
    try:
        print("lbaws-client:", line, file=sys.stderr, flush=True)
        return True
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stderr.fileno())
        return False


def _stderr_progress():
    # A closed stderr (`2>&1 | head -1`) must not stop the run: progress just ends.
    alive = [True]

    def progress(line):
        if alive[0]:
            alive[0] = _warn(line)
    return progress


def exit_code(result):
    stopped_by = result["stopped_by"]
    if stopped_by == "deadline":
        return EXIT_DEADLINE
    if stopped_by:
        return 128 + signal.Signals[stopped_by].value
    if result["fork_error"] or result["children_failed"]:
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
