"""Looking inside the server container with testinfra: processes by state and parent, fds, limits.

Probes run as root (`docker://root@...`): root is exempt from RLIMIT_NPROC and has its own UID, so
looking never counts against the server's process limit. Root here holds no capability (lab containers
drop them all), so it reads only what is world-readable: ps, /proc/PID/limits, /proc/net, ss, and the
size of /proc/PID/fd. Listing /proc/PID/fd takes the server's own UID: the samples and snapshots run
as that UID, unless the trial says one more process of the UID would disturb its lesson (spec.FdCount).
The samples come from one loop in the container per trial (`Probe.stream`), not an exec each.
"""
from __future__ import annotations

import subprocess
import time
from dataclasses import asdict, dataclass, field

from scenarios.vocabulary import tree
from scenarios.executor import engine_exec
from scenarios.vocabulary.results import Proc, SnapshotResult, TcpCounters

PS = "ps -eo pid=,ppid=,stat=,uid=,comm="
SAMPLE = "echo @@fds; {count}; echo @@ps; " + PS + "; echo @@tree; " + tree.TREE_PS
LISTED = "ls /proc/{pid}/fd | wc -l"
# Linux 6.2 on: the size of the folder is the count of the descriptors the process holds or reserves.
KERNEL_COUNT = "stat -c %s /proc/{pid}/fd"
SNAPSHOT = (
    "echo @@ps; ps -eo pid,ppid,user,stat,etime,args; "
    "echo @@limits; cat /proc/{pid}/limits; "
    "echo @@listen; ss -Hltn; "
    "echo @@procs; ps -eo pid=,ppid=,stat=,uid=,comm=; "
    # /proc/net shows the network namespace of the process reading it: here, the server container's.
    "echo @@snmp; cat /proc/net/snmp; "
    "echo @@netstat; cat /proc/net/netstat; "
    # The server's signal dispositions (world-readable): whether SIGCHLD is ignored, caught or default.
    "echo @@signals; grep -E '^Sig(Ign|Cgt):' /proc/{pid}/status; "
    "echo @@tree; " + tree.TREE_PS
)
# The stream's loop runs in bash where the image has it: dash's `read` takes a byte per system call, so a
# sample of 500 processes (a flood's zombies) cost 0.12 CPU s, four times a second; bash's, 0.03.
PREFER_BASH = 'command -v bash >/dev/null 2>&1 && exec bash -c "$1"; eval "$1"'
SIGCHLD = 17
END = "@@end"  # closes one sample of a stream
STREAM_PID = "@@pid"  # the stream's first line: the PID of its loop in the container


@dataclass
class Sample:
    t: float
    alive: bool
    fds: int | None = None
    live: int = 0
    zombies: int = 0
    zombie_pids: list = field(default_factory=list)
    live_pids: list = field(default_factory=list)
    # The whole tree below the container's PID 1 (scenarios.vocabulary.tree): None where it was not read.
    procs: int | None = None
    threads: int | None = None
    tree_zombies: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def sections(text: str) -> dict:
    """Split probe output on its `@@name` marker lines."""
    out, name = {}, None
    for line in text.splitlines():
        if line.startswith("@@"):
            name = line[2:].strip()
            out[name] = []
        elif name is not None:
            out[name].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def parse_ps(text: str) -> list:
    procs = []
    for line in text.splitlines():
        parts = line.split(None, 4)
        if len(parts) == 5 and parts[0].isdigit():
            procs.append(Proc(int(parts[0]), int(parts[1]), parts[2], int(parts[3]), parts[4].strip()))
    return procs


def parse_sample(text: str, server_pid: int, t: float) -> Sample:
    parts = sections(text)
    fds_text = parts.get("fds", "").strip()
    procs = parse_ps(parts.get("ps", ""))
    server_alive = any(p.pid == server_pid and not p.zombie for p in procs)
    children = [p for p in procs if p.ppid == server_pid]
    zombies = [p.pid for p in children if p.zombie]
    return Sample(
        t=round(t, 3),
        alive=server_alive,
        fds=int(fds_text) if fds_text.isdigit() and server_alive else None,
        live=len(children) - len(zombies),
        zombies=len(zombies),
        zombie_pids=zombies,
        live_pids=[p.pid for p in children if not p.zombie],
        **tree_fields(parts.get("tree", "")),
    )


def parse_stream_sample(text: str, server_pid: int, t: float) -> Sample | None:
    """One sample of `Probe.stream`: the server's descriptors and /proc/PID/stat of every process; None
    when no process could be read (the loop's shell could not run this time)."""
    parts = sections(text)
    rows = tree.stat_rows(parts.get("stat", ""))
    if not rows:
        return None
    fds_text = parts.get("fds", "").strip()
    server = rows.get(server_pid)
    alive = server is not None and not server[2].startswith("Z")
    children = [(pid, row) for pid, row in rows.items() if row[0] == server_pid]
    zombies = sorted(pid for pid, row in children if row[2].startswith("Z"))
    counted = tree.count(rows)
    return Sample(t=round(t, 3), alive=alive, fds=int(fds_text) if fds_text.isdigit() and alive else None,
                  live=len(children) - len(zombies), zombies=len(zombies), zombie_pids=zombies,
                  live_pids=sorted(pid for pid, row in children if not row[2].startswith("Z")),
                  **({} if counted is None else {"procs": counted.processes, "threads": counted.threads,
                                                 "tree_zombies": counted.zombies}))


def tree_fields(text: str) -> dict:
    counted = tree.parse(text)
    if counted is None:
        return {}
    return {"procs": counted.processes, "threads": counted.threads, "tree_zombies": counted.zombies}


def sigchld_disposition(text: str) -> str:
    """The SigIgn and SigCgt lines of /proc/PID/status -> "ignored", "caught", "default" ("" unread)."""
    masks = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        try:
            masks[name.strip()] = int(value.strip(), 16)
        except ValueError:
            continue
    bit = 1 << (SIGCHLD - 1)
    if "SigIgn" not in masks or "SigCgt" not in masks:
        return ""
    return "ignored" if masks["SigIgn"] & bit else "caught" if masks["SigCgt"] & bit else "default"


def parse_limits(text: str) -> dict:
    """/proc/PID/limits -> {"Max open files": (soft, hard), ...}"""
    limits = {}
    for line in text.splitlines()[1:]:
        name, rest = line[:26].strip(), line[26:].split()
        if name and len(rest) >= 2:
            limits[name] = (rest[0], rest[1])
    return limits


def parse_proc_net(text: str) -> dict:
    """/proc/net/snmp or /proc/net/netstat -> {"Tcp": {"PassiveOpens": 5, ...}, "TcpExt": {...}}.

    Each group is two lines with the same "Name:" prefix, the field names and then their values.
    """
    groups, names = {}, {}
    for line in text.splitlines():
        prefix, sep, rest = line.partition(":")
        if not sep:
            continue
        fields = rest.split()
        if prefix not in names:
            names[prefix] = fields
        elif len(fields) == len(names[prefix]):
            try:
                groups[prefix] = dict(zip(names[prefix], map(int, fields)))
            except ValueError:
                pass  # a header repeated, not values: the group stays unread
    return groups


def parse_tcp_counters(snmp: str, netstat: str) -> TcpCounters | None:
    """The three counters that tell whether connections reached accept(); None if one is missing."""
    tcp = parse_proc_net(snmp).get("Tcp", {})
    ext = parse_proc_net(netstat).get("TcpExt", {})
    try:
        return TcpCounters(passive_opens=tcp["PassiveOpens"], listen_overflows=ext["ListenOverflows"],
                           listen_drops=ext["ListenDrops"])
    except KeyError:
        return None


def server_pid_from(procs: list, marker: str = "lbaws") -> int | None:
    """The server is the oldest process running lbaws whose parent does not (PID 1 in its container)."""
    ours = {p.pid: p for p in procs if marker in p.comm and not p.zombie}
    roots = [p.pid for p in ours.values() if p.ppid not in ours]
    return min(roots) if roots else None


INITS = ("docker-init", "tini", "dumb-init")


def own_server_pid(procs: list) -> int | None:
    """PID 1, or its oldest child when PID 1 is an init."""
    first = next((p for p in procs if p.pid == 1 and not p.zombie), None)
    if first is None:
        return None
    if first.comm in INITS:
        children = [p.pid for p in procs if p.ppid == 1 and not p.zombie]
        return min(children) if children else None
    return 1


FD_LISTING = "ls -l /proc/{pid}/fd"


def stream_command(loop: str) -> list:
    """The argv that runs the stream's loop: in bash where there is one, else in sh."""
    return ["sh", "-c", PREFER_BASH, "sh", loop]


class Probe:
    def __init__(self, container_name: str, server_uid: int | None = None, kernel_count: bool = False):
        self.container_name = container_name
        self.host = engine_exec.host(f"root@{container_name}")
        # Reading where fds point needs ptrace rights over the server: its own UID has them, root
        # without CAP_SYS_PTRACE does not. One short process, outside the load.
        self.owner = engine_exec.host(f"{server_uid}@{container_name}") if server_uid else None
        self.kernel_count = kernel_count or self.owner is None
        self.sampler = self.host if self.kernel_count else self.owner
        self.sampler_user = "root" if self.kernel_count else str(server_uid)

    def run(self, command: str):
        return self.host.run(command)

    def processes(self) -> list:
        result = self.run(PS)
        return parse_ps(result.stdout) if result.rc == 0 else []

    def find_server(self, procs: list | None = None) -> int | None:
        # comm of `lbaws serve` is the script name, `lbaws`; a python -m launch would show `python`.
        procs = self.processes() if procs is None else procs
        pid = server_pid_from(procs)
        if pid is None:
            pid = server_pid_from(procs, marker="python")
        if pid is None:
            # A reader's server in another language runs as the container's PID 1 (exec'd), or as the
            # one child of an init the image put there.
            pid = own_server_pid(procs)
        return pid

    def listening(self, port: int) -> bool:
        result = self.run("ss -Hltn")
        return result.rc == 0 and any(
            line.split()[3].endswith(f":{port}") for line in result.stdout.splitlines() if len(line.split()) > 3
        )

    def await_listening(self, port: int, seconds: float, poll: float = 0.05) -> int | None:
        """Wait inside the container, in one exec, until something listens on `port`; then the server's
        PID. None when the time ran out or the container stopped first."""
        tries = max(1, int(seconds / poll))
        result = self.run(f"i=0; while [ $i -lt {tries} ]; do "
                          f"if ss -Hltn 'sport = :{port}' | grep -q .; then echo @@ps; {PS}; exit 0; fi; "
                          f"i=$((i+1)); sleep {poll:g}; done; exit 1")
        if result.rc != 0:
            return None
        return self.find_server(parse_ps(sections(result.stdout).get("ps", "")))

    def sample(self, server_pid: int, t0: float) -> Sample:
        count = (KERNEL_COUNT if self.kernel_count else LISTED).format(pid=server_pid)
        result = self.sampler.run(SAMPLE.format(count=count))
        now = time.monotonic() - t0
        if result.rc != 0 and "@@ps" not in result.stdout:
            return Sample(t=round(now, 3), alive=False)
        return parse_sample(result.stdout, server_pid, now)

    def stream_loop(self, server_pid: int, period: float, count: int) -> str:
        """The shell loop of `stream`: it reads /proc with the shell's own `read`, so a sample forks
        nothing but its sleep (and `stat`, where the kernel counts the descriptors): a `ps` per sample
        would cost the server's container more CPU than most servers spend."""
        if self.kernel_count:
            fds = KERNEL_COUNT.format(pid=server_pid)
        else:  # the owner lists its own process's descriptors with a glob: no fork
            fds = f'set -- /proc/{server_pid}/fd/*; [ -e "$1" ] && echo $# || echo 0'
        stats = 'for f in /proc/[0-9]*/stat; do { read -r l < "$f"; } 2>/dev/null && echo "$l"; done'
        return (f"echo {STREAM_PID} $$; i=0; while [ $i -lt {count} ]; do "
                f"echo @@fds; {fds}; echo @@stat; {stats}; echo {END}; "
                f"i=$((i+1)); sleep {period:g} || exit 3; done")

    def stream(self, server_pid: int, period: float, count: int) -> subprocess.Popen:
        """One process in the container that prints a sample every `period` seconds, `count` times at
        most, each ended by an `@@end` line: a docker exec costs the host about a tenth of a CPU second,
        so one per sample would make the watch the heaviest load of a busy machine. A loop that cannot
        fork its sleep (a full cgroup) ends rather than spin; the sampler then probes once a period."""
        argv = ["docker", "exec", "-u", self.sampler_user, self.container_name] + stream_command(
            self.stream_loop(server_pid, period, count))
        return subprocess.Popen(argv,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True, errors="replace")

    def end_stream(self, pid: int) -> None:
        """Stop the stream's loop inside the container (a kept container would run it on for minutes)."""
        self.sampler.run(f"kill {pid} 2>/dev/null")

    def snapshot(self, server_pid: int) -> SnapshotResult:
        if self.kernel_count or self.owner is None:
            parts = sections(self.run(SNAPSHOT.format(pid=server_pid)).stdout)
            listing = (self.owner or self.host).run(FD_LISTING.format(pid=server_pid)).stdout
        else:
            # One exec, not two (each costs the host a tenth of a CPU second): the owner reads all root
            # would, and lists the descriptors too; a trial that cannot spare one more process of the
            # server's UID counts in the kernel (spec.FdCount) and takes the two.
            parts = sections(self.owner.run(SNAPSHOT.format(pid=server_pid) + "; echo @@fdlist; "
                                            + FD_LISTING.format(pid=server_pid)).stdout)
            listing = parts.get("fdlist", "")
        fd_lines = [line for line in listing.splitlines() if line.startswith("l")]
        processes = parse_ps(parts.get("procs", ""))
        children = [p for p in processes if p.ppid == server_pid]
        return SnapshotResult(
            children=tuple(children),
            ps=parts.get("ps", ""),
            fd_count=len(fd_lines),
            fd_listing="\n".join(fd_lines),
            limits={k: list(v) for k, v in parse_limits(parts.get("limits", "")).items()
                    if k in ("Max open files", "Max processes")},
            listening=parts.get("listen", "").strip(),
            tcp=parse_tcp_counters(parts.get("snmp", ""), parts.get("netstat", "")),
            processes=tuple(processes),
            sigchld=sigchld_disposition(parts.get("signals", "")),
            tree=tree.parse(parts.get("tree", "")),
        )
