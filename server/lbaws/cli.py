"""The `lbaws` command: serve a stage, list the stages, and whatever the installed harness adds.

The harness's commands (`lbaws scenario` from lbaws-lab) plug in through the entry-point group
COMMANDS; the server package never imports the harness, and the images carry none of it.
"""

import argparse
import errno
import functools
import math
import socket
import sys
from importlib import metadata

from lbaws import handlers, logs, process_models, rlimits, stages, unix
from lbaws.apploader import AppLoadError, load_app
from lbaws.prefork.arbiter import WORKER_TIMEOUT
from lbaws.stages import HELLO, AppUse

EXIT_USAGE = 2
EXIT_LISTEN = 4
COMMANDS = "lbaws.commands"
BUILTIN_COMMANDS = ("serve", "stages", "limits")
# What lbaws-lab adds on the host; inside an image (or with the server alone) each gets one line saying so.
HARNESS_COMMANDS = ("scenario", "check", "doctor", "load", "bench", "watch")
# Seconds a draining stage gives its responses in flight after SIGTERM: under the lab's 3 s stop grace period.
DRAIN = 2.0


def _fail(code, message):
    print(f"lbaws: {message}", file=sys.stderr)
    return code


def _non_negative(text):
    value = float(text)
    # inf and nan pass `< 0` but make sleep() and settimeout() raise at the first client.
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number of seconds >= 0")
    return value


def _port(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    # bind() would raise OverflowError, which is no OSError, so it would escape as a traceback.
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port number (0-65535)")
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"{text} is not a number of workers (1-256)")
    return value


def _count(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a count (>= 0)")
    return value


def build_parser():
    parser = argparse.ArgumentParser(prog="lbaws", description="The servers of 'Let's Build A Web Server'.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run one stage of the tutorial")
    serve.add_argument("stage", metavar="STAGE", help=f"one of {stages.names()} (or its file name, webserver3d)")
    serve.add_argument("app", metavar="MODULE:CALLABLE", nargs="?",
                       help="WSGI application, imported from the current directory")
    serve.add_argument("--host", default="", help="address to bind (default: all interfaces, as the text)")
    serve.add_argument("--port", type=_port, default=8888, help="port (default 8888; 0 picks a free one)")
    serve.add_argument("--backlog", type=int, help="listen() backlog (default: the text's, per stage)")
    serve.add_argument("--sleep", type=_non_negative,
                       help="seconds to sleep after each response (default: the text's, per stage)")
    serve.add_argument("--timeout", type=_non_negative, default=10.0,
                       help="seconds to wait for a request before giving up on a client (default 10; 0: no limit)")
    serve.add_argument("--drain", type=_non_negative,
                       help=f"seconds a fixed stage ({stages.names('drains')}) lets its responses in flight finish "
                            "after SIGTERM "
                            f"(3g, 3h: SIGINT too; default {DRAIN:g}, under the lab's 3 s stop grace period)")
    serve.add_argument("--quiet", action="store_true", help="do not print what the text prints")
    serve.add_argument("--python2-signals", action="store_true",
                       help="let a SIGCHLD handler interrupt accept() with EINTR, as Python 2 did")
    serve.add_argument("--workers", type=_positive_int,
                       help="worker processes of a pre-forked stage (default: the stage's, 2 for prefork)")
    serve.add_argument("--worker-timeout", type=_non_negative,
                       help="seconds a pre-forked worker may stay in the app before it is killed and replaced "
                            "(default 30, as gunicorn's; 0: no limit)")
    serve.add_argument("--max-requests", type=_count,
                       help="a pre-forked worker retires after this many requests, and another takes its place "
                            "(default 0: never)")
    serve.add_argument("--max-requests-jitter", type=_count,
                       help="add 0 to this many requests at random to each worker's --max-requests, so the "
                            "workers do not all retire at once (default 0)")
    serve.add_argument("--no-sigterm-handler", action="store_true",
                       help="leave SIGTERM its default action, as the text's files do (as PID 1 in a "
                            "container: ignored, so docker stop ends in SIGKILL)")

    commands.add_parser("stages", help="list the stages and the tutorial file of each")
    commands.add_parser("limits", help="lower nofile/nproc (soft and hard), then exec a command: "
                                       "lbaws limits --nofile N --nproc M -- COMMAND...")
    for name in sorted(plugged_commands()):
        commands.add_parser(name, help="from the lab harness (lbaws-lab): arguments go to it")
    return parser


def plugged_commands():
    """name -> entry point of every command another installed distribution adds to `lbaws`."""
    try:
        found = metadata.entry_points(group=COMMANDS)
    except TypeError:  # Python 3.9: entry_points() takes no selection yet
        found = metadata.entry_points().get(COMMANDS, ())
    # A plug-in cannot take over one of the server's own commands.
    return {entry.name: entry for entry in found if entry.name not in BUILTIN_COMMANDS}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["limits"]:
        # Its own parsing: everything after `--` is the command's, options included.
        return rlimits.main(argv[1:])
    plugged = plugged_commands()
    if argv[:1] and argv[0] in plugged:
        return run_plugged(argv[0], plugged[argv[0]], argv[1:])
    if argv[:1] and argv[0] in HARNESS_COMMANDS:
        return _fail(EXIT_USAGE, f"`lbaws {argv[0]}` comes with the lab harness, which is not installed here "
                                 "(on the host: make setup, or pip install -e ./server -e .)")
    args = build_parser().parse_args(argv)
    if args.command == "stages":
        return list_stages()
    return serve(args)


_APP_IN_LISTING = {AppUse.NONE: "", AppUse.OPTIONAL: " [app]", AppUse.REQUIRED: " APP"}

# (what the stage takes, whether an app was given) -> why that is a usage error, or None.
_APP_REFUSALS = {
    (AppUse.NONE, False): None,
    (AppUse.NONE, True): "stage {name} answers " + HELLO + " to everything; it takes no app",
    (AppUse.OPTIONAL, False): None,
    (AppUse.OPTIONAL, True): None,
    (AppUse.REQUIRED, False): "stage {name} needs a WSGI application as MODULE:CALLABLE "
                              "(for example: lbaws serve {name} flaskapp:app)",
    (AppUse.REQUIRED, True): None,
}


# Options only some stages read: dest -> (the Stage property true where it is read, why the others refuse
# it). Accepted where nothing reads it, an option would promise a change that cannot come: a usage error.
_STAGE_OPTIONS = {
    "python2_signals": ("has_sigchld_handler", "--python2-signals changes only stages whose SIGCHLD handler can "
                                               "interrupt accept() ({stages}); stage {name} has none"),
    "workers": ("workers", "--workers is for a pre-forked stage ({stages}); stage {name} has no workers"),
    "worker_timeout": ("workers", "--worker-timeout is for a pre-forked stage ({stages}); stage {name} has no "
                                  "workers"),
    "max_requests": ("workers", "--max-requests is for a pre-forked stage ({stages}); stage {name} has no workers"),
    "max_requests_jitter": ("workers", "--max-requests-jitter is for a pre-forked stage ({stages}); stage {name} "
                                       "has no workers"),
    "sleep": ("sleeps", "--sleep is for a stage that sleeps after each response ({stages}); "
                        "stage {name} has no such sleep"),
    "drain": ("drains", "--drain is for a stage that lets its responses in flight finish on SIGTERM ({stages}); "
                        "stage {name} stops at once"),
    "no_sigterm_handler": ("takes_default_sigterm", "--no-sigterm-handler is for a stage that can leave SIGTERM "
                                                    "its default action ({stages}); stage {name} stops through "
                                                    "a SIGTERM handler of its own"),
}


def _option_refusal(stage, args):
    """Why an option given does not apply to `stage`, or None."""
    for dest, (reads, why) in _STAGE_OPTIONS.items():
        value = getattr(args, dest)
        given = value is not None and value is not False  # `--sleep 0` is given too: 0 == False
        if given and not getattr(stage, reads):
            return why.format(stages=stages.names(reads), name=stage.name)
    return None


def list_stages():
    for stage in stages.STAGES:
        app = _APP_IN_LISTING[stage.app]
        print(f"{stage.name:<3} {stage.tutorial_file or '(beyond text)':<15} {stage.summary}{app}")
    return 0


def run_plugged(name, entry, argv):
    try:
        command = entry.load()
    except (ImportError, AttributeError) as exc:  # its module, or the callable in it, is missing
        return _fail(EXIT_USAGE, f"`lbaws {name}` is installed but cannot be loaded: {exc}")
    return command(argv)


def serve(args):
    stage = stages.find(args.stage)
    if stage is None:
        return _fail(EXIT_USAGE, f"unknown stage {args.stage!r}; valid stages: {stages.names()}")
    refusal = _APP_REFUSALS[stage.app, bool(args.app)]
    if refusal:
        return _fail(EXIT_USAGE, refusal.format(name=stage.name))
    refusal = _option_refusal(stage, args)
    if refusal:
        return _fail(EXIT_USAGE, refusal)
    logs.configure(quiet=args.quiet)
    app = None
    # A pre-forked stage's workers each import the app themselves; the master only binds and supervises.
    if args.app and not stage.workers:
        try:
            app = load_app(args.app)
        except AppLoadError as exc:
            return _fail(unix.EXIT_APP, str(exc))
    backlog = stage.backlog if args.backlog is None else args.backlog
    try:
        listener = unix.open_listener(args.host, args.port, backlog)
    except OSError as exc:
        where = f"{args.host or '*'}:{args.port}"
        if exc.errno == errno.EADDRINUSE:
            return _fail(EXIT_LISTEN, f"port {args.port} is already in use ({where})")
        return _fail(EXIT_LISTEN, f"cannot listen on {where}: {exc.strerror or exc}")
    with listener:
        host, port = listener.getsockname()[:2]
        # socket.getfqdn() as in the text may wait on DNS, which a lab container does not have.
        server_name = socket.gethostname() if host in ("0.0.0.0", "::") else host
        server = process_models.ServerLoop(
            stage=stage,
            listener=listener,
            handler=None if stage.workers else handlers.make_handler(stage, app, server_name, port),
            sleep=stage.sleep if args.sleep is None else args.sleep,
            timeout=args.timeout,
            python2_signals=unix.Python2Signals(args.python2_signals),
            drain=DRAIN if args.drain is None else args.drain,
            boot=functools.partial(_boot_worker, stage, args.app, server_name, port),
            workers=args.workers or stage.workers,
            worker_timeout=WORKER_TIMEOUT if args.worker_timeout is None else args.worker_timeout,
            max_requests=args.max_requests or 0,
            max_requests_jitter=args.max_requests_jitter or 0,
        )
        unix.install_shutdown_handlers(sigterm=not args.no_sigterm_handler)
        logs.log.info("%sServing HTTP on port %d ...", stage.log_prefix, port)
        try:
            return process_models.serve(server)
        except unix.Shutdown as stop:
            logs.log.info("Shutting down (signal %d)", stop.signum)
            return 0


def _boot_worker(stage, app_spec, server_name, port):
    """A pre-forked worker's handler, its app imported in the worker (AppLoadError if it cannot be)."""
    return handlers.make_handler(stage, load_app(app_spec), server_name, port)
