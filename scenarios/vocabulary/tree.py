"""Every process of the server's container, read from its process table: what the server's tree holds.

The judges of the text's lessons look at the server and its direct children. A server can hold more:
children that never exit and fork children of their own, orphans, a double fork's grandchildren,
threads. The tree here is the container's PID 1 and every process below it, so the probes' own
processes (exec'd into the container, whose parent is outside it: PPID 0) never count, and an
orphan, reparented to PID 1, always does. An init (docker-init) as PID 1 is the engine's, not the
server's: it is left out of the count.
"""
from __future__ import annotations

from dataclasses import dataclass

# ps columns read, in order: one line per process of the container.
TREE_PS = "ps -eo pid=,ppid=,nlwp=,stat=,comm="
INITS = ("docker-init", "tini", "dumb-init")


@dataclass(frozen=True)
class TreeCount:
    """The server's process tree at one moment."""

    processes: int  # live (not zombie) processes, the server included
    threads: int  # threads of those processes, each process's main thread included
    zombies: int  # zombies anywhere in the tree, not only the server's children
    deepest: int  # 1: the server alone; 2: its children; 3: grandchildren, and so on


def parse(text: str) -> TreeCount | None:
    """`TREE_PS` output -> the tree below PID 1; None when PID 1 is not in it."""
    rows = {}
    for line in text.splitlines():
        parts = line.split(None, 4)
        if len(parts) >= 4 and parts[0].isdigit() and parts[1].isdigit() and parts[2].isdigit():
            rows[int(parts[0])] = (int(parts[1]), int(parts[2]), parts[3], parts[4].strip() if len(parts) > 4 else "")
    return count(rows)


def stat_rows(text: str) -> dict:
    """Lines of /proc/PID/stat -> {pid: (ppid, threads, state, comm)}, as `parse` reads ps's columns."""
    rows = {}
    for line in text.splitlines():
        head, sep, rest = line.rpartition(")")  # comm may hold spaces and parentheses: it ends at the last ')'
        pid, _, comm = head.partition(" (")
        fields = rest.split()
        if sep and pid.isdigit() and len(fields) > 17 and fields[1].isdigit() and fields[17].isdigit():
            rows[int(pid)] = (int(fields[1]), int(fields[17]), fields[0], comm)
    return rows


def count(rows: dict) -> TreeCount | None:
    """{pid: (ppid, threads, state, comm)} -> the tree below PID 1; None when PID 1 is not in it."""
    if 1 not in rows:
        return None
    depth = {1: 0 if rows[1][3] in INITS else 1}
    # Parents come before children in ps's pid order only mostly (pids wrap): walk until nothing changes.
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _, _, _) in rows.items():
            if pid not in depth and ppid in depth:
                depth[pid] = depth[ppid] + 1
                changed = True
    live = [pid for pid in depth if depth[pid] > 0 and not rows[pid][2].startswith("Z")]
    zombies = [pid for pid in depth if depth[pid] > 0 and rows[pid][2].startswith("Z")]
    return TreeCount(processes=len(live), threads=sum(rows[pid][1] for pid in live), zombies=len(zombies),
                     deepest=max((depth[pid] for pid in live), default=0))
