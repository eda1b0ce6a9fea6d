"""`lbaws limits --nofile N --nproc M -- COMMAND...`: lower this process's limits, then become COMMAND.

The text sets its limits with `ulimit -n 256` and `ulimit -u 400` in the shell that starts the server.
Where the engine sets none (Kubernetes has no ulimit field), the container's entrypoint does the same:
soft and hard both, so nothing the server runs can raise them again, and then execvp, so COMMAND keeps
this PID (PID 1 of its container stays the server) and holds no descriptor of ours. Lowering a limit
needs no privilege: it works as a non-root UID with every capability dropped and no-new-privileges.
"""

import os
import resource
import sys

EXIT_USAGE = 2
# What a shell answers for a command it cannot find or cannot run.
EXIT_NOT_FOUND = 127
EXIT_CANNOT_RUN = 126
# The most a Linux process may hold open (fs.nr_open's ceiling); nproc has no such bound but an int's.
MOST = 2 ** 30

RESOURCES = {"nofile": resource.RLIMIT_NOFILE, "nproc": resource.RLIMIT_NPROC}
USAGE = "lbaws limits [--nofile N] [--nproc M] -- COMMAND [ARG...]"


class Refusal(Exception):
    """Input the wrapper cannot act on; its text is the one line the user sees."""


def parse(argv):
    """({"nofile": N, "nproc": M} as given, COMMAND) from the arguments, or Refusal."""
    if "--" not in argv:
        raise Refusal(f"the command goes after `--`: {USAGE}")
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    if not command:
        raise Refusal(f"no command after `--`: {USAGE}")
    asked = {}
    while options:
        flag = options.pop(0)
        name = flag[2:] if flag.startswith("--") else None
        if name not in RESOURCES:
            raise Refusal(f"unknown option {flag!r}: {USAGE}")
        if name in asked:
            raise Refusal(f"--{name} given twice")
        if not options:
            raise Refusal(f"--{name} needs a number")
        asked[name] = whole_number(name, options.pop(0))
    if not asked:
        raise Refusal(f"say which limit to lower (--nofile, --nproc): {USAGE}")
    return asked, command


def whole_number(name, text):
    try:
        value = int(text)
    except ValueError:
        raise Refusal(f"--{name} takes a whole number, not {text!r}") from None
    # nofile 0 would leave the command no descriptor to start with; the bound keeps setrlimit's int in range.
    if not 1 <= value <= MOST:
        raise Refusal(f"--{name} {text} is out of range (1-{MOST})")
    return value


def lower(name, value):
    """Set soft and hard to `value`; a limit above the hard one is a Refusal, since only privilege raises it."""
    which = RESOURCES[name]
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY and value > hard:
        raise Refusal(f"cannot set {name} to {value}: the hard limit here is {hard}, and a process can only "
                      "lower it")
    resource.setrlimit(which, (value, value))


def main(argv):
    if list(argv[:1]) in (["-h"], ["--help"]):
        print(f"usage: {USAGE}\n\nLower nofile and nproc, soft and hard, then exec COMMAND in this process.")
        return 0
    try:
        asked, command = parse(list(argv))
        for name, value in asked.items():
            lower(name, value)
    except Refusal as refusal:
        print(f"lbaws limits: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.flush()
    try:
        os.execvp(command[0], command)
    except FileNotFoundError:
        print(f"lbaws limits: {command[0]}: command not found", file=sys.stderr)
        return EXIT_NOT_FOUND
    except OSError as exc:
        print(f"lbaws limits: cannot run {command[0]}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
