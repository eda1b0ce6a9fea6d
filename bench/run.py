"""One bench run: start every server, wait until each answers, then wrk each config in interleaved rounds.

The place (bench.containers.LabNetwork or bench.loopback.Loopback) starts the servers and runs wrk;
this module only decides what runs when and collects the measures.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from bench import servers, wrk
from bench.servers import ServerFailed

WARMUP_S = 1
WARMUP_CONNECTIONS = 8
# wrk ends by itself after its duration; past this much more, the run is cut short.
WRK_GRACE_S = 20
TIMED_OUT = 124  # coreutils timeout's status, which both places return for a wrk they had to stop


@dataclass(frozen=True)
class Settings:
    servers: tuple
    apps: tuple
    modes: tuple
    connections: tuple
    rounds: int
    duration_s: int
    warmup: bool


@dataclass
class Results:
    settings: Settings
    measures: dict = field(default_factory=dict)  # Config -> [Measure], in round order
    failures: dict = field(default_factory=dict)  # Config -> [one line per failed round]
    broken: dict = field(default_factory=dict)    # (server, app) -> why it never served
    wrk_version: str = "unknown"
    duration_s: float = 0.0


def run(place, settings: Settings, say) -> Results:
    started = time.monotonic()
    results = Results(settings)
    cells = servers.configs(settings.servers, settings.apps, settings.modes, settings.connections)
    pairs = [(server, app) for app in settings.apps for server in settings.servers]
    say(f"bench: run {place.run_id}: starting {len(pairs)} servers on the {place.where}")
    place.open()
    results.wrk_version = place.wrk_version()
    for server, app in pairs:
        place.start(servers.SERVERS_BY_NAME[server], app)
    for server, app in pairs:
        try:
            place.ready(server, app)
        except ServerFailed as exc:
            results.broken[server, app] = str(exc)
            say(f"bench: {exc}")
    if settings.warmup:
        say(f"bench: warming up each server for {WARMUP_S} s")
        for server, app in pairs:
            if (server, app) not in results.broken:
                _wrk(place, server, app, WARMUP_CONNECTIONS, WARMUP_S, keep_alive=True)
    plan = servers.interleaved(cells, settings.rounds)
    say(f"bench: {len(cells)} configs x {settings.rounds} rounds of {settings.duration_s} s "
        f"(about {len(plan) * settings.duration_s / 60:.1f} min)")
    for index, (number, cell) in enumerate(plan, 1):
        if (cell.server, cell.app) in results.broken:
            continue
        try:
            measure = _measure(place, cell, settings.duration_s)
        except (wrk.WrkOutputError, ServerFailed) as exc:
            results.failures.setdefault(cell, []).append(f"round {number}: {exc}")
            say(f"  [{index}/{len(plan)}] round {number} {_label(cell)}: FAILED {exc}")
            continue
        results.measures.setdefault(cell, []).append(measure)
        say(f"  [{index}/{len(plan)}] round {number} {_label(cell)}: {measure.requests_per_s:.0f} req/s, "
            f"p99 {measure.p99_ms:.1f} ms, {measure.error_count} errors")
    results.duration_s = time.monotonic() - started
    return results


def _label(cell) -> str:
    return f"{cell.server} {cell.app} {cell.mode} c={cell.connections}"


def _measure(place, cell, duration_s):
    code, out, err = _wrk(place, cell.server, cell.app, cell.connections, duration_s, cell.mode == "keep-alive")
    try:
        return wrk.parse(out, err)
    except wrk.WrkOutputError:
        place.check_alive(cell.server, cell.app)  # a dead server says more than wrk does
        if code == TIMED_OUT:
            raise wrk.WrkOutputError(f"wrk did not end within {duration_s + WRK_GRACE_S} s") from None
        raise


def _wrk(place, server, app, connections, duration_s, keep_alive):
    argv = wrk.command(place.url(server, app), connections, duration_s, keep_alive, place.script())
    return place.wrk(argv, duration_s + WRK_GRACE_S)
