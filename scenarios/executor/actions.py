"""How each client action of scenarios.vocabulary.spec is carried out against a running server container."""
from __future__ import annotations

import base64
import json
import re
import shlex
import threading
import time
from dataclasses import dataclass, field

from lab import inventory
from scenarios.vocabulary import spec
from scenarios.executor.containers import PORT, RunContainers
from scenarios.vocabulary.results import (CurlResult, CurlsResult, HoldResult, KillChildResult, KillResult, LoadResult,
                               Missing, NetcatResult, PauseResult, ServerCodeResult, SettleResult, StopResult)
from scenarios.executor.sampler import Sampler

# N curls in flight together, launched GAP apart. Each reports on one line of its own, its body in
# base64, so no byte a server sends (a line that looks like a marker, a blank line) can shift the rest.
CURLS = r"""
d=$(mktemp -d); i=0
{silent}
while [ $i -lt {count} ]; do
  i=$((i+1))
  (curl -s --max-time {max_time} -o $d/$i.body \
     -w '%{{http_code}} %{{time_starttransfer}} %{{time_total}} %{{content_type}}' {url} >$d/$i.meta 2>/dev/null
   echo $? >$d/$i.rc) &
  sleep {gap}
done
wait
i=0
while [ $i -lt {count} ]; do
  i=$((i+1)); touch $d/$i.body
  b=$(base64 -w0 <$d/$i.body)
  echo "curl $i $(cat $d/$i.rc) ${{b:--}} $(cat $d/$i.meta)"
done
rm -rf $d
"""


@dataclass
class TrialContext:
    containers: RunContainers
    server: object  # the docker container
    alias: str
    sampler: Sampler
    scale: float
    say: object
    background: dict = field(default_factory=dict)  # key -> (thread, box) of an action still running
    on_tally: object = None  # called (action key, tallies) as a load client reports its progress

    def since_start(self) -> float:
        return round(time.monotonic() - self.sampler.t0, 3)

    def collect_background(self) -> dict:
        """Wait for the actions still running in the background; their results by key."""
        results = {}
        for key, (thread, box) in self.background.items():
            thread.join()
            results[key] = box.get("result") or Missing(f"the background action failed: {box.get('error')}")
        self.background.clear()
        return results

    def url(self, path: str) -> str:
        return f"http://{self.alias}:{PORT}{path}"

    def server_exited(self) -> bool:
        self.server.reload()
        return self.server.status in ("exited", "dead")


def _number(text: str, kind):
    try:
        return kind(text)
    except ValueError:
        return None


def parse_curls(text: str) -> tuple:
    """The CURLS script's report lines -> CurlResult, in launch order; other lines are ignored."""
    found = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4 or parts[0] != "curl" or not parts[1].isdigit():
            continue
        meta = parts[4:] + [""] * 3
        body = b"" if parts[3] == "-" else base64.b64decode(parts[3], validate=False)
        status = _number(meta[0], int)
        found.append(CurlResult(
            n=int(parts[1]),
            exit=_number(parts[2], int),
            status=status or None,  # curl writes 000 when no response head arrived
            ttfb_s=_number(meta[1], float),
            total_s=_number(meta[2], float),
            body=body.decode("utf-8", "replace").strip(),
            content_type=" ".join(parts[7:]),  # it may hold spaces: "text/plain; charset=utf-8"
        ))
    return tuple(sorted(found, key=lambda c: c.n))


# A client that connects and says nothing for S seconds: a forking server's child waits in recv() for
# it while the parent accepts the next. The curls start once it is connected.
SILENT = r"""
python3 -c 'import socket, sys, time
s = socket.create_connection((sys.argv[1], {port}), timeout=5)
print("connected", flush=True)
time.sleep(float(sys.argv[2]))' {host} {seconds} >$d/silent 2>&1 &
n=0; while [ $n -lt 100 ] && ! grep -q connected $d/silent; do sleep 0.1; n=$((n+1)); done
"""


def curls_script(count: int, max_time: float, gap: float, url: str, silent_s: float = 0.0,
                 host: str = "", port: int = PORT) -> str:
    """The shell script of a Curl action, with its silent client in front when it has one."""
    silent = SILENT.format(port=port, host=shlex.quote(host), seconds=silent_s) if silent_s else ""
    return CURLS.format(count=count, max_time=max_time, gap=gap, url=shlex.quote(url), silent=silent)


def run_curl(action: spec.Curl, ctx: TrialContext) -> CurlsResult:
    max_time = spec.seconds(action.max_time, ctx.scale)
    script = curls_script(action.count, max_time, action.gap, ctx.url(action.path), action.silent_first, ctx.alias)
    ctx.say(f"{action.count} x curl {ctx.url(action.path)} (max {max_time:g}s each, {action.gap:g}s apart)"
            + (f" behind a client silent for {action.silent_first:g}s" if action.silent_first else ""))
    started = time.monotonic()
    rc, out, err = ctx.containers.exec_client(["sh", "-c", script],
                                              timeout=max_time + action.count * action.gap + action.silent_first + 15)
    return CurlsResult(curls=parse_curls(out), wall_s=round(time.monotonic() - started, 3), exec_rc=rc)


# netcat's -w is one idle timeout for all: a busy machine may keep the first byte longer than the
# silence that should end a kept-alive answer. This waits `wait` for the first byte, then `idle`.
RAW = r"""import socket, sys
host, port, wait, idle = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
payload = sys.stdin.buffer.read()
try:
    sock = socket.create_connection((host, port), timeout=wait)
except OSError as exc:
    sys.exit(f"nc: {host} {port}: {exc.strerror or exc}")
try:
    sock.sendall(payload)
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        sock.settimeout(idle)
except socket.timeout:
    pass
except OSError as exc:
    sys.exit(f"nc: {host} {port}: {exc.strerror or exc}")
"""


def run_netcat(action: spec.Netcat, ctx: TrialContext) -> NetcatResult:
    ctx.say(f"netcat: {action.payload!r} to {ctx.alias}:{PORT}")
    script = (f"printf {shlex.quote(action.payload)} | python3 -c {shlex.quote(RAW)} {ctx.alias} {PORT} "
              f"{action.wait:g} {action.idle:g}")
    rc, out, err = ctx.containers.exec_client(["sh", "-c", script], timeout=action.wait + action.idle + 10)
    return NetcatResult(exit=rc, output=out, stderr=err.strip())


# Connections opened together that say nothing: "up N" on stderr once they are, then held, then closed.
HOLD = r"""import socket, sys, time
held = []
for _ in range(int(sys.argv[2])):
    try:
        held.append(socket.create_connection((sys.argv[1], int(sys.argv[3])), timeout=3))
    except OSError:
        pass
print("up", len(held), file=sys.stderr, flush=True)
time.sleep(float(sys.argv[4]))
"""
SERVED_AFTER_UP = 0.4  # seconds for the server to accept what is up and start whatever serves each


def run_hold(action: spec.Hold, ctx: TrialContext) -> HoldResult:
    ctx.say(f"{action.clients} connections held silent for {action.seconds:g}s")
    box, up, read = {}, threading.Event(), threading.Event()

    def heard(line):
        if line.startswith("up "):
            box["up"] = int(line.split()[1])
            up.set()

    def hold():
        try:
            box["done"] = ctx.containers.exec_client(
                ["python3", "-c", HOLD, ctx.alias, str(action.clients), str(PORT), f"{action.seconds:g}"],
                timeout=action.seconds + 3 * action.clients + 10, on_err_line=heard, stop_when=read.is_set)
        finally:
            up.set()

    thread = threading.Thread(target=hold, name="hold", daemon=True)
    thread.start()
    # Read the tree in the middle of the hold: every connection up, none closed yet.
    up.wait(timeout=3 * action.clients + 10)
    during = None
    if "up" in box and thread.is_alive():
        time.sleep(min(SERVED_AFTER_UP, action.seconds / 3))
        if ctx.sampler.alive():
            during = ctx.sampler.probe.snapshot(ctx.sampler.server_pid)
    read.set()  # the tree is read: holding on would only wait
    thread.join()
    rc = box.get("done", (None, "", ""))[0]
    return HoldResult(asked=action.clients, connected=box.get("up", 0), during=during, exit=rc)


def load_command(action: spec.Load, url: str, scale: float) -> list:
    command = ["lbaws-client", "--max-clients", str(action.clients)]
    if action.requests:
        command += ["--requests", str(action.requests), "--url", url]
    else:
        command += ["--max-conns", str(action.max_conns), "--url", url]
    # The repository's copy exits right after sending; the client refuses a hold for it, and for a load run.
    if action.pattern is not spec.ClientPattern.REPOSITORY and not action.requests:
        command += ["--hold", str(spec.seconds(action.hold, scale))]
    command += ["--deadline", str(spec.seconds(action.deadline, scale)), "--json"]
    if action.read:
        command.append("--read")
    if action.rate:
        command += ["--rate", str(action.rate)]
    if action.connect_timeout:
        command += ["--connect-timeout", str(action.connect_timeout)]
    if action.connect_patience:
        command += ["--connect-patience", str(action.connect_patience)]
    if action.read_timeout:
        command += ["--read-timeout", str(action.read_timeout)]
    if action.pattern is not spec.ClientPattern.LAB:
        command += ["--pattern", action.pattern.value]
    return command


def parse_summary(out: str) -> dict | None:
    """The client prints one JSON summary line; take the last line that parses (None: there is none)."""
    for line in reversed(out.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


# The load client's progress line on stderr, once a second:
# "  3.0s clients 300/300 | connected 254, refused 0, timed out 46, reset 0, errors 0 | responses 0 | open 254"
PROGRESS = re.compile(r"connected (\d+), refused (\d+), timed out (\d+), reset (\d+), errors (\d+) "
                      r"\| responses (\d+)")


def tallies_so_far(line: str) -> dict | None:
    """A progress line's requests answered, failures and connections so far; None for any other line."""
    found = PROGRESS.search(line)
    if not found:
        return None
    connected, *failed, responses = (int(n) for n in found.groups())
    return {"requests": responses, "failures": sum(failed), "connected": connected}


def run_load(action: spec.Load, ctx: TrialContext) -> LoadResult:
    command = load_command(action, ctx.url(action.path), ctx.scale)
    ctx.say(" ".join(command))
    started = time.monotonic()

    def on_line(line):
        tallies = tallies_so_far(line)
        if tallies is not None:
            ctx.on_tally(action.key, tallies)
    gone = ServerGone(ctx)
    rc, out, err = ctx.containers.exec_client(command, timeout=spec.seconds(action.deadline, ctx.scale) + 15,
                                              on_err_line=on_line if ctx.on_tally is not None else None,
                                              stop_when=gone)
    return LoadResult(command=" ".join(command), exit=rc, summary=parse_summary(out),
                      wall_s=round(time.monotonic() - started, 3), stderr_tail=err.strip()[-2000:],
                      pattern=action.pattern.value, stopped_s=gone.stopped_s)


class ServerGone:
    """True once the trial's server has been gone for GRACE seconds: a load's patience waits out a full
    backlog, but nothing will ever accept once the server's container has exited, and its address may
    swallow SYNs for a minute more, so the lab stops the client then (it still prints its summary)."""

    GRACE = 1.0

    def __init__(self, ctx: TrialContext):
        self.ctx = ctx
        self.seen = None
        self.stopped_s = None

    def __call__(self) -> bool:
        if self.seen is None:
            if not self.ctx.server_exited():
                return False
            self.seen = time.monotonic()
        if time.monotonic() - self.seen < self.GRACE:
            return False
        self.stopped_s = self.ctx.since_start()
        return True


def steady_command(action: spec.SteadyLoad, url: str) -> list:
    # The client's own deadline is a margin past the load's length: it stops the run even if the server hangs.
    return ["lbaws-client", "--pattern", "keep-alive", "--max-clients", str(action.clients), "--hold",
            str(action.seconds), "--rate", str(action.rate), "--read-timeout", "5", "--deadline",
            str(action.seconds + 10), "--url", url, "--json", "--quiet"]


def run_steady_load(action: spec.SteadyLoad, ctx: TrialContext):
    """Start the load and return at once; the runner collects its LoadResult when the trial's actions end."""
    command = steady_command(action, ctx.url(action.path))
    ctx.say(" ".join(command) + "  (in the background)")
    box = {}
    started_s = ctx.since_start()

    def run():
        started = time.monotonic()
        try:
            rc, out, err = ctx.containers.exec_client(command, timeout=action.seconds + 15)
            summary = parse_summary(out)
            # The client's own start, on the kernel's monotonic clock the sampler uses too: exec takes a while.
            t0 = (summary or {}).get("t0_monotonic")
            begun = round(t0 - ctx.sampler.t0, 3) if isinstance(t0, (int, float)) else started_s
            box["result"] = LoadResult(command=" ".join(command), exit=rc, summary=summary,
                                       wall_s=round(time.monotonic() - started, 3),
                                       stderr_tail=err.strip()[-2000:], pattern="keep-alive", started_s=begun)
        except Exception as exc:  # reported as the action's Missing result, never lost
            box["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=run, name=f"background-{action.key}", daemon=True)
    thread.start()
    ctx.background[action.key] = (thread, box)
    return Missing("still running in the background")


def _fds_by_child(ctx: TrialContext, pids: list) -> dict:
    script = "for p in %s; do echo $p $(ls /proc/$p/fd 2>/dev/null | wc -l); done" % " ".join(map(str, pids))
    # As the server's UID: root holds no capability here, so it may not list another UID's descriptors.
    _, out, _ = ctx.containers.exec_as(ctx.server, ctx.server.attrs["Config"]["User"], ["sh", "-c", script])
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
            found[int(parts[0])] = int(parts[1])
    return found


def run_kill_child(action: spec.KillChild, ctx: TrialContext) -> KillChildResult | Missing:
    if not ctx.sampler.alive() or ctx.server_exited():
        return Missing("the server was no longer running, so it had no child to kill")
    before = ctx.sampler.next()
    fds = _fds_by_child(ctx, before.live_pids)
    if not fds:
        return Missing(f"the server had no live child to kill (children seen: {before.live_pids})")
    # The busiest worker holds the most client connections: its loss is the one the clients feel.
    victim = max(fds, key=lambda pid: (fds[pid], -pid))
    uid = ctx.server.attrs["Config"]["User"]
    ctx.say(f"kill -{action.signal} {victim}  (the child with the most descriptors, {fds[victim]}; "
            f"as the server's UID {uid}: root has no CAP_KILL here)")
    sent = ctx.since_start()
    rc, _, err = ctx.containers.exec_as(ctx.server, uid, ["kill", f"-{action.signal}", str(victim)])
    t_s = round((sent + ctx.since_start()) / 2, 3)  # somewhere inside the exec: its middle
    time.sleep(action.wait)
    after = ctx.sampler.next()
    return KillChildResult(victim=victim, signal=action.signal, t_s=t_s, fds_by_child=fds, kill_exit=rc,
                           kill_stderr=err.strip(), live_before=tuple(before.live_pids),
                           live_after=tuple(after.live_pids), zombies_after=tuple(after.zombie_pids))


def run_pause(action: spec.Pause, ctx: TrialContext) -> PauseResult:
    duration = spec.seconds(action.seconds, ctx.scale)
    ctx.say(f"waiting {duration:g}s")
    time.sleep(duration)
    return PauseResult(seconds=duration)


def _settled(action: spec.Settle, ctx: TrialContext, state: dict) -> bool | None:
    """True once the condition holds; None when it never can (the server is gone while we wait for
    its children to finish)."""
    if action.until is spec.Until.EXITED:
        return ctx.server_exited()
    sample = ctx.sampler.next() if ctx.sampler.alive() else None
    if sample is None or not sample.alive:
        return None
    if sample.live:
        state["quiet_since"] = None
        return False
    state["quiet_since"] = state.get("quiet_since") or time.monotonic()
    return time.monotonic() - state["quiet_since"] >= action.quiet


def run_settle(action: spec.Settle, ctx: TrialContext, poll: float = 0.25) -> SettleResult:
    timeout = spec.seconds(action.timeout, ctx.scale)
    started = time.monotonic()
    state, reached = {}, False
    while time.monotonic() - started < timeout:
        reached = _settled(action, ctx, state)
        if reached is None:
            reached = False
            break
        if reached:
            break
        time.sleep(poll)
    return SettleResult(until=action.until.value, reached=reached, waited_s=round(time.monotonic() - started, 3))


def run_kill_zombies(action: spec.KillZombies, ctx: TrialContext) -> KillResult | Missing:
    if not ctx.sampler.alive() or ctx.server_exited():
        return Missing("the server was no longer running, so it had no zombie children to kill")
    before = ctx.sampler.next()
    pids = list(before.zombie_pids)
    # As the server's own UID, the reader who started it in the text: that needs no capability (root
    # would need CAP_KILL), and one short process more does not disturb a count of 5 zombies.
    uid = ctx.server.attrs["Config"]["User"]
    ctx.say(f"kill -9 {' '.join(map(str, pids)) or '(no zombie)'}  (as the server's UID {uid}, in its container)")
    rc, out, err = (ctx.containers.exec_as(ctx.server, uid, ["kill", "-9", *map(str, pids)]) if pids
                    else (None, "", ""))
    time.sleep(1.0)  # give the kernel every chance: a signal to a zombie is simply never acted on
    after = ctx.sampler.next()
    return KillResult(zombies_before=tuple(pids), kill_exit=rc, kill_stderr=err.strip(),
                      zombies_after=tuple(after.zombie_pids),
                      survivors=tuple(sorted(set(pids) & set(after.zombie_pids))))


def run_snapshot(action: spec.Snapshot, ctx: TrialContext):
    if not ctx.sampler.alive() or ctx.server_exited():
        return Missing("the server was no longer running when the snapshot was due")
    return ctx.sampler.probe.snapshot(ctx.sampler.server_pid)


DIGEST = (
    "import hashlib, pathlib, lbaws; root = pathlib.Path(lbaws.__file__).parent; h = hashlib.sha256()\n"
    "for p in sorted(root.rglob('*.py')):\n"
    "    h.update(p.relative_to(root).as_posix().encode() + b'\\0' + p.read_bytes())\n"
    "print(root, h.hexdigest())"
)


def run_server_code(action: spec.ServerCode, ctx: TrialContext) -> ServerCodeResult | Missing:
    rc, out, err = ctx.containers.exec_root(ctx.server, ["python", "-c", DIGEST])
    path, _, digest = out.strip().partition(" ")
    if rc != 0 or not digest:
        return Missing(f"hashing the lbaws package in the container failed (exit {rc}): {err.strip()[-300:]}")
    engine = ctx.containers.engine
    image_layers = engine.images.get(ctx.server.image.id).attrs["RootFS"]["Layers"]
    server_layers = engine.images.get(inventory.SERVER_IMAGE).attrs["RootFS"]["Layers"]
    return ServerCodeResult(package_path=path, digest=digest, exit=rc, stderr=err.strip()[-500:],
                            image=ctx.server.image.tags[0] if ctx.server.image.tags else ctx.server.image.id,
                            layers=len(image_layers), server_layers=len(server_layers),
                            contains_server_layers=image_layers[:len(server_layers)] == server_layers)


def run_stop(action: spec.Stop, ctx: TrialContext) -> StopResult:
    ctx.say(f"docker stop -t {action.timeout} {ctx.server.name}")
    started = time.monotonic()
    try:
        ctx.server.stop(timeout=action.timeout)
    except Exception as exc:  # the engine refused or timed out: the reading is what is missing
        return StopResult(timeout_s=action.timeout, seconds=round(time.monotonic() - started, 2), exit_code=None,
                          error=f"{type(exc).__name__}: {exc}")
    seconds = round(time.monotonic() - started, 2)
    ctx.server.reload()
    return StopResult(timeout_s=action.timeout, seconds=seconds, exit_code=ctx.server.attrs["State"]["ExitCode"])


RUNNERS = {
    spec.ServerCode: run_server_code,
    spec.Curl: run_curl,
    spec.Netcat: run_netcat,
    spec.Hold: run_hold,
    spec.Load: run_load,
    spec.SteadyLoad: run_steady_load,
    spec.KillChild: run_kill_child,
    spec.Pause: run_pause,
    spec.Settle: run_settle,
    spec.KillZombies: run_kill_zombies,
    spec.Snapshot: run_snapshot,
    spec.Stop: run_stop,
}


def execute(action, ctx: TrialContext):
    """Carry out one action; its typed result, or a Missing saying why there is none."""
    return RUNNERS[type(action)](action, ctx)
