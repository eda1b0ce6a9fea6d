"""timeline.png: open fds, live children and zombies of the server over time, the limit as a line;
where a trial ran a keep-alive load, its requests/s on a second axis, and any child it killed. A server
that died of its limit is drawn up to the count its judge computed at death (scenarios.judging.at_death), and a
repeated trial draws every run, so the spread shows."""
from __future__ import annotations

from pathlib import Path

from scenarios.vocabulary.record import Observations
from scenarios.vocabulary.results import KillChildResult, LoadResult
from scenarios.vocabulary.spec import Watch


def pyplot():
    """matplotlib's pyplot on its file backend, imported when a figure is drawn: half a CPU second that a
    command refusing its arguments, or listing, never spends."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI runners
    import matplotlib.pyplot as plt

    return plt


def limit_line(record, watch: Watch) -> tuple:
    if watch is Watch.NOTHING:
        return None, ""
    name = "pids_limit" if watch is Watch.PIDS else watch.value
    return record.limits[name], f"{name} = {record.limits[name]}"


def _requests_per_second(ax, record) -> None:
    """A keep-alive load's responses per second on a right-hand axis, each second drawn at its middle."""
    loads = [r for r in record.results.values() if isinstance(r, LoadResult) and r.started_s is not None
             and r.summary and r.summary.get("per_second")]
    if not loads:
        return
    right = ax.twinx()
    for load in loads:
        per_second = load.summary["per_second"]
        t = [load.started_s + i + 0.5 for i in range(len(per_second["responses"]))]
        right.plot(t, per_second["responses"], color="tab:orange", marker="o", markersize=3,
                   label="requests/s (clients)")
        right.bar(t, per_second["failed"], width=0.6, color="tab:red", alpha=0.4, label="failed requests")
        right.bar(t, per_second["reconnects"], width=0.3, color="tab:grey", alpha=0.6, label="reconnects")
    right.set_ylabel("per second")
    right.set_ylim(bottom=0)
    right.legend(fontsize=8, loc="upper right")


def _counts(ax, record, watch: Watch, last: bool, run: str) -> None:
    """One run's lines: the last (or only) run labelled and solid, earlier ones faint and unlabelled."""
    # A sample of a server already gone says nothing about its counts.
    samples = [s for s in record.samples if s.alive]
    t = [s.t for s in samples]
    style = {"alpha": 1.0} if last else {"alpha": 0.35, "linewidth": 1}
    label = (lambda text: text) if last else (lambda text: None)
    ax.plot(t, [s.fds if s.fds is not None else float("nan") for s in samples],
            label=label("open fds (server)"), color="tab:blue", marker="." if last else None, **style)
    ax.plot(t, [s.live for s in samples], label=label("live children"), color="tab:green", **style)
    ax.plot(t, [s.zombies for s in samples], label=label("zombies"), color="tab:red", **style)
    if watch is Watch.NPROC:
        ax.plot(t, [1 + s.live + s.zombies for s in samples], label=label("processes (server + children)"),
                color="tab:purple", linestyle="-.", **style)
    if run and samples:
        # The spread of a repeated trial: where each run ended, named by its number.
        end = samples[-1]
        ax.annotate(run, (end.t, end.zombies), fontsize=7, color="tab:red", alpha=style["alpha"],
                    xytext=(3, 0), textcoords="offset points")


def _death(ax, record, death: dict) -> None:
    """The count at death as the last point of its line: the limit reached, not the last sample."""
    counts = [s for s in record.samples if s.alive]
    fds = death["counter"] == "fds"
    if counts:
        last = counts[-1]
        y = last.fds if fds else 1 + last.live + last.zombies
        if y is not None:
            ax.plot([last.t, death["t"]], [y, death["value"]], color="tab:blue" if fds else "tab:purple",
                    linestyle="-", linewidth=1.5)
    ax.plot([death["t"]], [death["value"]], marker="X", markersize=9, color="black", linestyle="none",
            label=f"{death['counter']} at death: {death['value']} of {death['limit']} ({death['source']})")


def _margins(fig, panels: int) -> None:
    """Fixed margins in inches around each panel: tight_layout would draw the whole figure once more."""
    width, height = fig.get_size_inches()
    top, bottom, gap = 0.8, 0.55, 0.75  # the suptitle; the last x label; a title and an x label between
    panel = (height - top - bottom - gap * (panels - 1)) / panels
    fig.subplots_adjust(left=0.7 / width, right=1 - 0.15 / width, top=1 - top / height, bottom=bottom / height,
                        hspace=gap / panel)


def draw(observations: Observations, trials: dict, title: str, path: Path, deaths: dict | None = None) -> Path:
    """One panel per trial; every repetition of a repeated one. deaths: scenarios.judging.at_death.at_death."""
    keys = list(observations.trials)
    deaths = deaths or {}
    plt = pyplot()
    fig, axes = plt.subplots(len(keys), 1, figsize=(9, 3.2 * len(keys)), squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        runs = observations.trials[key]
        record = runs[-1]
        trial = trials.get(key)
        watch = trial.watch if trial is not None else Watch.NOTHING
        for index, each in enumerate(runs):
            _counts(ax, each, watch, each is record, f"run {index + 1}" if len(runs) > 1 else "")
        if watch is Watch.PIDS and record.pids:
            ax.plot([r.t for r in record.pids], [r.current for r in record.pids], color="tab:orange",
                    label=f"pids cgroup (from {'the host' if 'host' in record.pids_source else 'the engine'})")
        value, text = limit_line(record, watch)
        if value is not None:
            ax.axhline(value, color="black", linestyle="--", linewidth=1, label=text)
        if key in deaths:
            _death(ax, record, deaths[key])
        gone = [s.t for s in record.samples if not s.alive]
        alive = [s.t for s in record.samples if s.alive]
        if record.died and (gone or alive):
            ax.axvline(gone[0] if gone else alive[-1], color="grey", linestyle=":",
                       label=f"server exited ({record.exit_code})")
        for result in record.results.values():
            if isinstance(result, KillChildResult) and result.victim is not None:
                ax.axvline(result.t_s, color="black", linestyle=":", label=f"kill -{result.signal} {result.victim}")
        _requests_per_second(ax, record)
        suffix = f" (all {len(runs)} runs; the last one solid)" if len(runs) > 1 else ""
        note = f" - {trial.title}" if trial is not None and trial.title else ""
        ax.set_title(f"{key}: stage {record.stage}{' ' + record.app if record.app else ''}{note}{suffix}",
                     fontsize=10)
        ax.set_xlabel("seconds since the container started")
        ax.set_ylabel("count")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(title)
    _margins(fig, len(keys))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
