"""The judgment every trial of a reader's server gets besides its experiment's own: its whole process
tree. The experiments' judges read the server's direct children and zombies; a server whose children
never exit (each falls back into the accept loop and forks in its turn) keeps its direct children few
while its container fills with processes. Where the text's stage forks a child per connection that
ends (3c on), a tree that keeps what it gained DIFFERS, said in numbers.
"""
from __future__ import annotations

import dataclasses

from scenarios.vocabulary.results import CurlsResult, LoadResult, MissingResult
from scenarios.vocabulary.verdict import Judgment

KEPT = 5  # processes gained and kept to the end; fewer is a child or two still on its way out
RECENT_S = 1.0  # the end: the lowest count of its last second, so children still serving do not count


def kept_processes(record) -> tuple | None:
    """(processes at the start, the fewest of the last second), or None when the tree was not read."""
    counted = [(s.t, s.procs) for s in record.samples if s.procs is not None and s.alive]
    if len(counted) < 2:
        return None
    end = counted[-1][0]
    recent = [procs for t, procs in counted if t >= end - RECENT_S]
    if record.final is not None and record.final.tree is not None:
        recent.append(record.final.tree.processes)
    return counted[0][1], min(recent)


def requests_sent(record) -> int | None:
    sent = None
    for value in record.results.values():
        if isinstance(value, LoadResult) and value.summary is not None:
            sent = (sent or 0) + value.count("connected")
        elif isinstance(value, CurlsResult):
            sent = (sent or 0) + len(value.curls)
    return sent


def growth_sentence(record, stage_name: str) -> str:
    """"after N requests your server's container held M processes ..." or "" where it kept none."""
    kept = kept_processes(record)
    if kept is None or kept[1] - kept[0] < KEPT:
        return ""
    sent = requests_sent(record)
    after = f"after {sent} requests" if sent is not None else "at the end"
    return (f"{after} your server's container held {kept[1]} processes (it began with {kept[0]}); the text's "
            f"{stage_name} holds 1 plus the children still serving: its children never exit")


def guarded(judge, yours: tuple, stage_name: str):
    """`judge`, then, where it found the reader's server behaving as the stage, its whole tree checked."""

    def judge_with_tree(obs) -> Judgment:
        judged = judge(obs)
        if not judged.reproduced:
            return judged
        for key in yours:
            try:
                said = growth_sentence(obs[key], stage_name)
            except (MissingResult, KeyError):
                continue
            if said:
                return dataclasses.replace(judged, verdict=Judgment.of(False, "").verdict,
                                           observed=f"{said}. {judged.observed[:1].upper()}{judged.observed[1:]}")
        return judged

    return judge_with_tree


def applies(stage) -> bool:
    """Only the stages whose text forks a child per connection that then ends."""
    from lbaws import stages

    return stage is not None and stage.model is stages.ProcessModel.FORK
