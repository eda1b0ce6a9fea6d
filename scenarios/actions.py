"""How each client action of scenarios.spec is carried out against a running server container."""
from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass

from scenarios import images, spec
from scenarios.containers import PORT, RunContainers
from scenarios.probe import sections
from scenarios.sampler import Sampler

# N curls in flight together, launched GAP apart; each reports exit status, timings and body.
CURLS = r"""
d=$(mktemp -d); i=0
while [ $i -lt {count} ]; do
  i=$((i+1))
  (curl -s --max-time {max_time} -o $d/$i.body \
     -w '%{{http_code}} %{{time_starttransfer}} %{{time_total}}' {url} >$d/$i.meta 2>/dev/null
   echo $? >$d/$i.rc) &
  sleep {gap}
done
wait
i=0
while [ $i -lt {count} ]; do
  i=$((i+1)); echo "@@$i"; echo "rc $(cat $d/$i.rc)"; echo "meta $(cat $d/$i.meta)"; cat $d/$i.body; echo
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

    def url(self, path: str) -> str:
        return f"http://{self.alias}:{PORT}{path}"

    def server_exited(self) -> bool:
        self.server.reload()
        return self.server.status in ("exited", "dead")


def parse_curls(text: str) -> list:
    results = []
    for name, body in sorted(sections(text).items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0):
        lines = body.split("\n")
        rc = int(lines[0].split()[1]) if lines and lines[0].startswith("rc ") else None
        meta = lines[1].split()[1:] if len(lines) > 1 and lines[1].startswith("meta") else []
        results.append({
            "n": int(name),
            "exit": rc,
            "status": int(meta[0]) if meta and meta[0].isdigit() else None,
            "ttfb_s": float(meta[1]) if len(meta) > 1 else None,
            "total_s": float(meta[2]) if len(meta) > 2 else None,
            "body": "\n".join(lines[2:]).strip(),
        })
    return results


def run_curl(action: spec.Curl, ctx: TrialContext) -> dict:
    max_time = spec.seconds(action.max_time, ctx.scale)
    script = CURLS.format(count=action.count, max_time=max_time, gap=action.gap,
                          url=shlex.quote(ctx.url(action.path)))
    ctx.say(f"{action.count} x curl {ctx.url(action.path)} (max {max_time:g}s each, {action.gap:g}s apart)")
    started = time.monotonic()
    rc, out, err = ctx.containers.exec_client(["sh", "-c", script],
                                              timeout=max_time + action.count * action.gap + 10)
    return {"curls": parse_curls(out), "wall_s": round(time.monotonic() - started, 3), "exec_rc": rc}


def run_netcat(action: spec.Netcat, ctx: TrialContext) -> dict:
    ctx.say(f"netcat: {action.payload!r} to {ctx.alias}:{PORT}")
    script = f"printf {shlex.quote(action.payload)} | nc -w {action.wait:g} {ctx.alias} {PORT}"
    rc, out, err = ctx.containers.exec_client(["sh", "-c", script], timeout=action.wait + 10)
    return {"exit": rc, "output": out, "stderr": err.strip()}


def load_command(action: spec.Load, url: str, scale: float) -> list:
    command = ["lbaws-client", "--max-clients", str(action.clients), "--max-conns", str(action.conns),
               "--url", url, "--hold", str(spec.seconds(action.hold, scale)),
               "--deadline", str(spec.seconds(action.deadline, scale)), "--json"]
    if action.read:
        command.append("--read")
    if action.rate:
        command += ["--rate", str(action.rate)]
    if action.connect_timeout:
        command += ["--connect-timeout", str(action.connect_timeout)]
    return command


def parse_summary(out: str) -> dict:
    """The client prints one JSON summary line; take the last line that parses."""
    for line in reversed(out.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return {}


def run_load(action: spec.Load, ctx: TrialContext) -> dict:
    command = load_command(action, ctx.url(action.path), ctx.scale)
    ctx.say(" ".join(command))
    started = time.monotonic()
    rc, out, err = ctx.containers.exec_client(command, timeout=spec.seconds(action.deadline, ctx.scale) + 15)
    return {"command": " ".join(command), "exit": rc, "summary": parse_summary(out),
            "wall_s": round(time.monotonic() - started, 3), "stderr_tail": err.strip()[-2000:]}


def run_pause(action: spec.Pause, ctx: TrialContext) -> dict:
    duration = spec.seconds(action.seconds, ctx.scale)
    ctx.say(f"waiting {duration:g}s")
    time.sleep(duration)
    return {"seconds": duration}


def run_settle(action: spec.Settle, ctx: TrialContext) -> dict:
    timeout = spec.seconds(action.timeout, ctx.scale)
    started = time.monotonic()
    quiet_since = None
    reached = False
    while time.monotonic() - started < timeout:
        if action.until == "exited":
            if ctx.server_exited():
                reached = True
                break
        else:
            sample = ctx.sampler.take() if ctx.sampler.alive() else None
            if sample is None or not sample.alive:
                break
            if sample.live == 0:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= action.quiet:
                    reached = True
                    break
            else:
                quiet_since = None
        time.sleep(0.25)
    return {"until": action.until, "reached": reached, "waited_s": round(time.monotonic() - started, 3)}


def run_kill_zombies(action: spec.KillZombies, ctx: TrialContext) -> dict:
    before = ctx.sampler.take()
    pids = list(before.zombie_pids)
    ctx.say(f"kill -9 {' '.join(map(str, pids)) or '(no zombie)'}  (as root, in the server container)")
    rc, out, err = (ctx.containers.exec_root(ctx.server, ["kill", "-9", *map(str, pids)]) if pids
                    else (None, "", ""))
    time.sleep(1.0)  # give the kernel every chance: a signal to a zombie is simply never acted on
    after = ctx.sampler.take()
    return {"zombies_before": pids, "kill_exit": rc, "kill_stderr": err.strip(),
            "zombies_after": list(after.zombie_pids),
            "survivors": sorted(set(pids) & set(after.zombie_pids))}


def run_snapshot(action: spec.Snapshot, ctx: TrialContext) -> dict:
    if not ctx.sampler.alive() or ctx.server_exited():
        return {"error": "server not running"}
    return ctx.sampler.probe.snapshot(ctx.sampler.server_pid)


DIGEST = (
    "import hashlib, pathlib, lbaws; root = pathlib.Path(lbaws.__file__).parent; h = hashlib.sha256()\n"
    "for p in sorted(root.rglob('*.py')):\n"
    "    h.update(p.relative_to(root).as_posix().encode() + b'\\0' + p.read_bytes())\n"
    "print(root, h.hexdigest())"
)


def run_server_code(action: spec.ServerCode, ctx: TrialContext) -> dict:
    rc, out, err = ctx.containers.exec_root(ctx.server, ["python", "-c", DIGEST])
    path, _, digest = out.strip().partition(" ")
    engine = ctx.containers.engine
    image_layers = engine.images.get(ctx.server.image.id).attrs["RootFS"]["Layers"]
    server_layers = engine.images.get(images.name("server")).attrs["RootFS"]["Layers"]
    return {"package_path": path, "digest": digest, "exit": rc, "stderr": err.strip()[-500:],
            "image": ctx.server.image.tags[0] if ctx.server.image.tags else ctx.server.image.id,
            "layers": len(image_layers),
            "server_layers": len(server_layers),
            "contains_server_layers": image_layers[:len(server_layers)] == server_layers}


RUNNERS = {
    spec.ServerCode: run_server_code,
    spec.Curl: run_curl,
    spec.Netcat: run_netcat,
    spec.Load: run_load,
    spec.Pause: run_pause,
    spec.Settle: run_settle,
    spec.KillZombies: run_kill_zombies,
    spec.Snapshot: run_snapshot,
}


def execute(action, ctx: TrialContext) -> dict:
    return RUNNERS[type(action)](action, ctx)
