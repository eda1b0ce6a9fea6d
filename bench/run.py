"""One bench run: start every server, wait until each answers, ask whether it keeps a connection, then
wrk each config in interleaved rounds; at the end stop each server and keep what it said last.

The place (bench.containers.LabNetwork or bench.loopback.Loopback) starts the servers and runs wrk;
this module only decides what runs when and collects the measures.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from bench import keepalive, servers, wrk
from bench.servers import ServerFailed

WARMUP_S = 1
WARMUP_CONNECTIONS = 8
# wrk ends by itself after its duration; past this much more, the run is cut short.
WRK_GRACE_S = 20
TIMED_OUT = 124  # coreutils timeout's status, which both places return for a wrk they had to stop
# What lbaws's prefork master says as it exits: how the connections spread over its workers.
SHARES = re.compile(r"^lbaws: (\d+ connections over \d+ worker\(s\); shares: .*)$", re.M)


@dataclass(frozen=True)
class Settings:
    servers: tuple
    apps: tuple
    modes: tuple
    connections: tuple
    rounds: int
    duration_s: int
    warmup: bool
    cpus: tuple = servers.CPUS


@dataclass
class Results:
    settings: Settings
    measures: dict = field(default_factory=dict)  # Config -> [Measure], in round order
    failures: dict = field(default_factory=dict)  # Config -> [one line per failed round]
    broken: dict = field(default_factory=dict)    # Instance -> why it never served
    kept: dict = field(default_factory=dict)      # Instance -> whether it kept the connection (None: no answer)
    shares: dict = field(default_factory=dict)    # Instance -> how its connections spread over its workers
    wrk_version: str = "unknown"
    duration_s: float = 0.0


def run(place, settings: Settings, say) -> Results:
    started = time.monotonic()
    results = Results(settings)
    cells = servers.configs(settings.servers, settings.apps, settings.modes, settings.connections, settings.cpus)
    running = servers.instances(settings.servers, settings.apps, settings.cpus)
    say(f"bench: run {place.run_id}: starting {len(running)} servers on the {place.where}")
    place.open()
    for instance in running:
        place.start(servers.SERVERS_BY_NAME[instance.server], instance)
    results.wrk_version = place.wrk_version()
    for instance in running:
        try:
            place.ready(instance)
        except ServerFailed as exc:
            results.broken[instance] = str(exc)
            say(f"bench: {exc}")
            continue
        results.kept[instance] = keepalive.parse(place.curl(instance, keepalive.command(place.url(instance))))
    say("bench: kept the connection: " + ", ".join(
        f"{instance.alias} {_yes(kept)}" for instance, kept in results.kept.items()))
    if settings.warmup:
        say(f"bench: warming up each server for {WARMUP_S} s")
        for instance in running:
            if instance not in results.broken:
                _wrk(place, instance, WARMUP_CONNECTIONS, WARMUP_S, keep_alive=True)
    plan = servers.interleaved(cells, settings.rounds)
    say(f"bench: {len(cells)} configs x {settings.rounds} rounds of {settings.duration_s} s "
        f"(about {len(plan) * settings.duration_s / 60:.1f} min)")
    for index, (number, cell) in enumerate(plan, 1):
        if cell.instance in results.broken:
            continue
        try:
            measure = _measure_patiently(place, cell, settings.duration_s, say)
        except (wrk.WrkOutputError, ServerFailed) as exc:
            results.failures.setdefault(cell, []).append(f"round {number}: {exc}")
            say(f"  [{index}/{len(plan)}] round {number} {_label(cell)}: FAILED {exc}")
            continue
        results.measures.setdefault(cell, []).append(measure)
        say(f"  [{index}/{len(plan)}] round {number} {_label(cell)}: {measure.requests_per_s:.0f} req/s, "
            f"p99 {measure.p99_ms:.1f} ms, {measure.error_count} errors")
    for instance in running:
        if instance not in results.broken:
            said = SHARES.findall(place.stop(instance))
            if said:
                results.shares[instance] = said[-1]
    results.duration_s = time.monotonic() - started
    return results


def _yes(kept) -> str:
    return {True: "yes", False: "no", None: "no answer"}[kept]


def _label(cell) -> str:
    return f"{cell.server} {cell.app} {cell.mode} c={cell.connections} cpus={cell.cpus}"


class WrkStuck(wrk.WrkOutputError):
    """wrk outlived its run while the server stayed up: the client stuck, not the server."""


def _measure_patiently(place, cell, duration_s, say):
    """One round; a round whose wrk got stuck (it does, now and then, on a busy machine) runs once more."""
    try:
        return _measure(place, cell, duration_s)
    except WrkStuck as exc:
        say(f"  round of {_label(cell)}: {exc}; running it once more")
        return _measure(place, cell, duration_s)


def _measure(place, cell, duration_s):
    code, out, err = _wrk(place, cell.instance, cell.connections, duration_s, cell.mode == "keep-alive")
    try:
        return wrk.parse(out, err)
    except wrk.WrkOutputError:
        place.check_alive(cell.instance)  # a dead server says more than wrk does
        if code == TIMED_OUT:
            raise WrkStuck(f"wrk did not end within {duration_s + WRK_GRACE_S} s") from None
        raise


def _wrk(place, instance, connections, duration_s, keep_alive):
    argv = wrk.command(place.url(instance), connections, duration_s, keep_alive, place.script())
    return place.wrk(instance, argv, duration_s + WRK_GRACE_S)
