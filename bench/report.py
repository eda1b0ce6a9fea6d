"""What a bench run leaves: the table on the terminal, reports/bench/bench.json and bench.png."""
from __future__ import annotations

import json
from pathlib import Path

from bench import servers, stats

HEADER = ("cpus", "app", "mode", "conns", "server", "kept", "req/s", "(min-max)", "p50 ms", "p99 ms", "(min-max)",
          "errors", "x best peer", "x " + servers.ANCHOR)
PEER, ANCHOR_RATIO = "ratio_to_best_peer", "ratio_to_" + servers.ANCHOR


def rows(results) -> list[dict]:
    """One dict per config, in table order: medians and spreads, errors, whether the server kept the
    connection, and its ratios to the best pure-Python peer and to the native anchor of the same group."""
    settings = results.settings
    cells = servers.configs(settings.servers, settings.apps, settings.modes, settings.connections, settings.cpus)
    summaries = {cell: stats.summarise(results.measures[cell]) for cell in cells if results.measures.get(cell)}
    best = _best_peers(cells, summaries, results.kept)
    out = []
    for cell in cells:
        kept = results.kept.get(cell.instance)
        row = {"server": cell.server, "app": cell.app, "mode": cell.mode, "connections": cell.connections,
               "cpus": cell.cpus, "kept_connection": kept}
        summary = summaries.get(cell)
        failures = results.failures.get(cell, [])
        if cell.instance in results.broken:
            failures = [results.broken[cell.instance]]
        if summary:
            median = summary["requests_per_s"].median
            # A keep-alive figure of a server that closed is a close figure: compared with nothing.
            comparable = cell.mode != "keep-alive" or kept is True
            peer = best.get(cell.group)
            anchor = summaries.get(servers.Config(servers.ANCHOR, cell.app, cell.mode, cell.connections, cell.cpus))
            anchor_kept = cell.mode != "keep-alive" or results.kept.get(
                servers.Instance(servers.ANCHOR, cell.app, cell.cpus)) is True
            row.update({"requests_per_s": summary["requests_per_s"].as_dict(1),
                        "p50_ms": summary["p50_ms"].as_dict(3), "p99_ms": summary["p99_ms"].as_dict(3),
                        "errors": summary["errors"], "rounds": summary["rounds"],
                        "best_peer": peer[0] if peer else None,
                        PEER: _ratio(median, peer[1]) if comparable and peer else None,
                        ANCHOR_RATIO: (_ratio(median, anchor["requests_per_s"].median)
                                       if comparable and anchor and anchor_kept else None),
                        "runs": [m.as_dict() for m in results.measures[cell]]})
        row["failures"] = failures
        out.append(row)
    return out


def _best_peers(cells, summaries, kept) -> dict:
    """group -> (name, median requests/s) of the fastest pure-Python peer there; in keep-alive mode only
    among those that kept the connection."""
    best = {}
    for cell in cells:
        summary = summaries.get(cell)
        if summary is None or servers.SERVERS_BY_NAME[cell.server].kind != servers.PURE_PYTHON:
            continue
        if cell.mode == "keep-alive" and kept.get(cell.instance) is not True:
            continue
        median = summary["requests_per_s"].median
        if cell.group not in best or median > best[cell.group][1]:
            best[cell.group] = (cell.server, median)
    return best


def _ratio(value, baseline):
    ratio = stats.ratio(value, baseline)
    return None if ratio is None else round(ratio, 3)


def headline(table_rows: list[dict], server: str = "lbaws-prefork") -> list[str]:
    """One line per group for `server`: its ratio to the best pure-Python peer and to the anchor."""
    lines = []
    for row in table_rows:
        if row["server"] != server or "requests_per_s" not in row:
            continue
        where = f"{row['app']} {row['mode']} c={row['connections']} on {row['cpus']} CPU(s)"
        if row[PEER] is None and row[ANCHOR_RATIO] is None:
            lines.append(f"{server} {where}: no ratio (it did not keep the connection, or no peer did)")
            continue
        peer = f"{row[PEER]:.2f}x {row['best_peer']} (the best pure-Python peer)" if row[PEER] is not None else \
            "no pure-Python peer kept the connection"
        anchor = f"{row[ANCHOR_RATIO]:.2f}x {servers.ANCHOR}" if row[ANCHOR_RATIO] is not None else \
            f"no {servers.ANCHOR} figure"
        lines.append(f"{server} {where}: {peer}; {anchor}")
    return lines


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def table(table_rows: list[dict]) -> str:
    lines = [HEADER]
    for row in table_rows:
        kept = {True: "yes", False: "no", None: "?"}[row.get("kept_connection")]
        head = (str(row["cpus"]), row["app"], row["mode"], str(row["connections"]), row["server"], kept)
        if "requests_per_s" not in row:
            lines.append(head + ("-", "", "-", "-", "", "FAILED", "-", "-"))
            continue
        rps, p50, p99 = row["requests_per_s"], row["p50_ms"], row["p99_ms"]
        lines.append(head + (_number(rps["median"]), f"({_number(rps['min'])}-{_number(rps['max'])})",
                             _number(p50["median"]), _number(p99["median"]),
                             f"({_number(p99['min'])}-{_number(p99['max'])})", str(row["errors"]),
                             *("-" if row[key] is None else f"{row[key]:.2f}" for key in (PEER, ANCHOR_RATIO))))
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    left = {1, 2, 4, 5}  # text columns; numbers align right
    text = []
    for n, line in enumerate(lines):
        cells = [cell.ljust(w) if i in left else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))]
        text.append("  ".join(cells).rstrip())
        if n == 0:
            text.append("  ".join("-" * w for w in widths))
    return "\n".join(text)


def failures(table_rows: list[dict]) -> list[str]:
    seen, lines = set(), []
    for row in table_rows:
        for failure in row["failures"]:
            line = f"{row['server']} {row['app']} {row['mode']} c={row['connections']}: {failure}"
            if failure not in seen:
                seen.add(failure)
                lines.append(line)
    return lines


def document(results, table_rows: list[dict], place) -> dict:
    settings = results.settings
    return {
        "where": place.where,
        "duration_s": round(results.duration_s, 1),
        "settings": {"servers": list(settings.servers), "apps": {app: servers.APPS[app] for app in settings.apps},
                     "modes": list(settings.modes), "connections": list(settings.connections),
                     "cpus": list(settings.cpus), "threads": servers.THREADS,
                     "worker_tmp_dir": servers.WORKER_TMP_DIR,
                     "rounds": settings.rounds, "run_s": settings.duration_s, "warmup": settings.warmup,
                     "workers": servers.WORKERS, "path": servers.PATH, "wrk": results.wrk_version,
                     "wrk_threads": 1, "order": "interleaved: round 1 of every config, then round 2, ...",
                     "limits": place.limits()},
        "commands": {name: servers.SERVERS_BY_NAME[name].command("MODULE:CALLABLE", host=place.host)
                     for name in settings.servers},
        "figures": "median of the rounds; min and max beside it; errors summed over the rounds",
        "ratios": ("to the fastest pure-Python peer of the same CPUs, app, mode and connections, and to "
                   f"{servers.ANCHOR}; in keep-alive mode only among the servers that kept the connection"),
        "kept_connection": {instance.alias: kept for instance, kept in results.kept.items()},
        "worker_shares": {instance.alias: line for instance, line in results.shares.items()},
        "headline": headline(table_rows),
        "results": table_rows,
    }


def write(folder: Path, results, table_rows: list[dict], place) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "bench.json"
    data.write_text(json.dumps(document(results, table_rows, place), indent=2) + "\n")
    image = folder / "bench.png"
    plot(image, results.settings, table_rows, place.where)
    return data, image


def plot(path: Path, settings, table_rows: list[dict], where: str) -> None:
    """Per app and mode, two panels: requests/s and p99 per server, connection counts along x, min-max as
    error bars, on a log scale (a fork per connection and a pre-fork pool differ a hundredfold)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    apps, modes = settings.apps, settings.modes
    metrics = (("requests_per_s", "requests/s"), ("p99_ms", "p99 latency, ms"))
    fig, axes = plt.subplots(len(apps), len(modes) * len(metrics), squeeze=False,
                             figsize=(4.2 * len(modes) * len(metrics), 3.6 * len(apps)))
    for i, app in enumerate(apps):
        for j, mode in enumerate(modes):
            for k, (metric, label) in enumerate(metrics):
                ax = axes[i][j * len(metrics) + k]
                _bars(ax, settings, table_rows, app, mode, metric)
                ax.set_title(f"{servers.APPS[app]}, {mode}", fontsize="medium")
                ax.set_ylabel(f"{label} (median, min-max)", fontsize="small")
    axes[0][0].legend(fontsize="x-small")
    fig.suptitle(f"lbaws bench on the {where}: wrk, {settings.duration_s} s x {settings.rounds} interleaved rounds, "
                 f"{settings.cpus[0]} CPU(s) per server")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _bars(ax, settings, table_rows, app, mode, metric):
    names, counts = settings.servers, settings.connections
    found = {(r["connections"], r["server"]): r[metric] for r in table_rows
             if r["app"] == app and r["mode"] == mode and r["cpus"] == settings.cpus[0] and metric in r}
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        placed = [(x, found[count, name]) for x, count in enumerate(counts) if (count, name) in found]
        if placed:
            xs = [x + (k - (len(names) - 1) / 2) * width for x, _ in placed]
            medians = [figure["median"] for _, figure in placed]
            low = [figure["median"] - figure["min"] for _, figure in placed]
            high = [figure["max"] - figure["median"] for _, figure in placed]
            ax.bar(xs, medians, width, yerr=[low, high], capsize=2, label=name)
    ax.set_xticks(range(len(counts)), [f"{c} conn" for c in counts])
    # Every panel on the same kind of scale; a round that got no response at all sits on the axis.
    ax.set_yscale("log", nonpositive="clip")
    ax.grid(axis="y", alpha=0.3)
