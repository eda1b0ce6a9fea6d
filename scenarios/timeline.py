"""timeline.png: open fds, live children and zombies of the server over time, the limit as a line;
where a trial ran a keep-alive load, its requests/s on a second axis, and any child it killed."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI runners
import matplotlib.pyplot as plt  # noqa: E402

from scenarios.record import Observations  # noqa: E402
from scenarios.results import KillChildResult, LoadResult  # noqa: E402
from scenarios.spec import Watch  # noqa: E402


def limit_line(record, watch: Watch) -> tuple:
    if watch is Watch.NOTHING:
        return None, ""
    return record.limits[watch.value], f"{watch.value} limit = {record.limits[watch.value]}"


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


def draw(observations: Observations, trials: dict, title: str, path: Path) -> Path:
    """One panel per trial (the last repetition of a repeated one)."""
    keys = list(observations.trials)
    fig, axes = plt.subplots(len(keys), 1, figsize=(9, 3.2 * len(keys)), squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        record = observations.trials[key][-1]
        # A sample of a server already gone says nothing about its counts: only mark when it went.
        samples = [s for s in record.samples if s.alive]
        gone = [s.t for s in record.samples if not s.alive]
        t = [s.t for s in samples]
        ax.plot(t, [s.fds if s.fds is not None else float("nan") for s in samples],
                label="open fds (server)", color="tab:blue", marker=".")
        ax.plot(t, [s.live for s in samples], label="live children", color="tab:green")
        ax.plot(t, [s.zombies for s in samples], label="zombies", color="tab:red")
        trial = trials.get(key)
        watch = trial.watch if trial is not None else Watch.NOTHING
        if watch is Watch.NPROC:
            ax.plot(t, [s.live + s.zombies for s in samples], label="children (live + zombies)",
                    color="tab:purple", linestyle="-.")
        value, text = limit_line(record, watch)
        if value is not None:
            ax.axhline(value, color="black", linestyle="--", linewidth=1, label=text)
        if record.died and (gone or samples):
            ax.axvline((gone or t)[0] if gone else t[-1], color="grey", linestyle=":",
                       label=f"server exited ({record.exit_code})")
        for result in record.results.values():
            if isinstance(result, KillChildResult) and result.victim is not None:
                ax.axvline(result.t_s, color="black", linestyle=":", label=f"kill -{result.signal} {result.victim}")
        _requests_per_second(ax, record)
        runs = len(observations.trials[key])
        suffix = f" (last of {runs} runs)" if runs > 1 else ""
        note = f" - {trial.title}" if trial is not None and trial.title else ""
        ax.set_title(f"{key}: stage {record.stage}{' ' + record.app if record.app else ''}{note}{suffix}",
                     fontsize=10)
        ax.set_xlabel("seconds since the container started")
        ax.set_ylabel("count")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
