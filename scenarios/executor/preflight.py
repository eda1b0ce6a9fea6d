"""The preflight: what kind of Docker engine this is, and which scenarios cannot reproduce on it.

It runs before every `lbaws scenario` and `lbaws check`, and is all of `lbaws doctor`: a scenario whose
needs (spec.Needs) the engine does not meet ends in one line saying why, instead of a verdict about an
experiment that could not happen.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from scenarios.vocabulary.spec import Needs

CAP_SYS_RESOURCE = 24  # the bit of /proc/PID/status CapEff that lets a daemon raise its own hard limits
CLIENT_NOFILE = 16384  # what scenarios.executor.containers asks for the client container


@dataclass(frozen=True)
class Facts:
    engine: str  # "Docker Engine 20.10.24 (API 1.41)"
    os: str  # the engine's OperatingSystem: a distribution, or "Docker Desktop"
    kernel: str
    desktop: bool  # Docker Desktop: the engine and its kernel live in a VM
    rootless: bool
    userns_remap: bool
    cgroup_version: str  # "1" or "2"
    cgroup_driver: str  # "cgroupfs" or "systemd"
    pids_limit: bool  # the engine applies --pids-limit (docker info's PidsLimit)
    init: str  # docker-init's version; "" when the engine has none
    daemon_nofile: str  # dockerd's own "soft/hard" RLIMIT_NOFILE, or "unknown (why)"
    daemon_nproc: str
    daemon_raises_limits: bool | None  # CAP_SYS_RESOURCE in dockerd's effective set; None: unknown
    pids_source: str  # where a container's pids cgroup is read from outside it

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One line for the head of every scenario run."""
        return (f"engine: {self.engine}, {'Docker Desktop' if self.desktop else 'native'}, "
                f"{'rootless' if self.rootless else 'rootful'}{', userns-remap' if self.userns_remap else ''}, "
                f"cgroup v{self.cgroup_version} ({self.cgroup_driver}), dockerd nofile {self.daemon_nofile}")


def _limit(limits: dict, name: str) -> str:
    soft, hard = limits.get(name, ("?", "?"))
    return f"{soft}/{hard}"


def daemon_process(desktop: bool) -> tuple:
    """(dockerd's PID, None) on this host, or (None, why it cannot be looked at)."""
    if desktop:
        return None, "the engine runs in Docker Desktop's VM"
    host = os.environ.get("DOCKER_HOST", "")
    if host and not host.startswith("unix://"):
        return None, f"the engine is remote ({host})"
    for candidate in sorted(Path("/proc").glob("[0-9]*")):
        try:
            if (candidate / "comm").read_text().strip() == "dockerd":
                return int(candidate.name), None
        except OSError:
            continue
    return None, "no dockerd process visible here"


def daemon_limits(desktop: bool) -> tuple:
    """(nofile, nproc, raises its own limits) of dockerd, each "unknown (why)" / None when unreadable."""
    from scenarios.executor.probe import parse_limits

    pid, why = daemon_process(desktop)
    if pid is None:
        return f"unknown ({why})", f"unknown ({why})", None
    try:
        limits = parse_limits(Path(f"/proc/{pid}/limits").read_text())
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError as exc:
        why = f"unknown (/proc/{pid}: {exc.strerror})"
        return why, why, None
    effective = next((int(line.split()[1], 16) for line in status.splitlines() if line.startswith("CapEff:")), None)
    raises = None if effective is None else bool(effective >> CAP_SYS_RESOURCE & 1)
    return _limit(limits, "Max open files"), _limit(limits, "Max processes"), raises


def pids_source(desktop: bool) -> str:
    from scenarios.executor.cgroups import UNIFIED, parse_mountinfo

    if desktop:
        return "the engine's stats API (the cgroups are in the VM)"
    try:
        mounts = parse_mountinfo(Path("/proc/self/mountinfo").read_text())
    except OSError:
        mounts = {}
    where = mounts.get("pids") or mounts.get(UNIFIED)
    return f"host cgroup files under {where[0]}" if where else "the engine's stats API (no cgroup mounted here)"


def is_desktop(info: dict) -> bool:
    return "Docker Desktop" in (info.get("OperatingSystem") or "") or info.get("Name") == "docker-desktop"


def from_engine(version: dict, info: dict, daemon: tuple, source: str) -> Facts:
    """Facts from the engine's /version and /info answers and what this host says about dockerd."""
    security = " ".join(info.get("SecurityOptions") or [])
    components = {c.get("Name"): c.get("Version", "") for c in version.get("Components") or []}
    desktop = is_desktop(info)
    nofile, nproc, raises = daemon
    return Facts(
        engine=f"Docker Engine {version.get('Version', '?')} (API {version.get('ApiVersion', '?')})",
        os=info.get("OperatingSystem") or "?", kernel=info.get("KernelVersion") or "?", desktop=desktop,
        rootless="name=rootless" in security, userns_remap="name=userns" in security,
        cgroup_version=str(info.get("CgroupVersion") or "1"), cgroup_driver=info.get("CgroupDriver") or "?",
        pids_limit=bool(info.get("PidsLimit")),
        # Old engines list no components: then trust the configured init binary.
        init=components.get("docker-init", "") or ("" if components else info.get("InitBinary") or ""),
        daemon_nofile=nofile, daemon_nproc=nproc, daemon_raises_limits=raises, pids_source=source)


def gather(engine) -> Facts:
    info = engine.info()
    desktop = is_desktop(info)
    return from_engine(engine.version(), info, daemon_limits(desktop), pids_source(desktop))


def _hard(limit: str) -> int | None:
    hard = limit.partition("/")[2]
    return int(hard) if hard.isdigit() else None


def missing(need: Needs, facts: Facts) -> str:
    """Why the engine does not meet `need`; "" when it does."""
    if need is Needs.PIDS_LIMIT and not facts.pids_limit:
        return ("the engine applies no pids_limit (docker info: PidsLimit false"
                f"{'; a rootless engine on cgroup v1 has no cgroups' if facts.rootless else ''})")
    if need is Needs.INIT and not facts.init:
        return "the engine has no docker-init for `init: true`"
    if need is Needs.HOST_ROOT and (facts.rootless or facts.userns_remap):
        how = "a rootless engine" if facts.rootless else "userns-remap"
        return (f"under {how}, UID 0 in a container is an ordinary UID of the host, which RLIMIT_NPROC binds "
                "like any other")
    return ""


def general_blockers(facts: Facts) -> list:
    """What stops every scenario here: the client container's nofile above what dockerd may give."""
    hard = _hard(facts.daemon_nofile)
    if hard is not None and hard < CLIENT_NOFILE and facts.daemon_raises_limits is False:
        return [f"the client container needs nofile {CLIENT_NOFILE}, above dockerd's own hard limit {hard}, "
                "which it cannot raise (no CAP_SYS_RESOURCE)"]
    return []


def blockers(scenario, facts: Facts) -> list:
    """Why `scenario` cannot reproduce on this engine; empty when it can."""
    return general_blockers(facts) + [why for why in (missing(need, facts) for need in scenario.needs) if why]


def blocked(scenarios: dict, facts: Facts) -> dict:
    """name -> reasons, for each scenario this engine cannot reproduce."""
    found = {name: blockers(scenario, facts) for name, scenario in scenarios.items()}
    return {name: reasons for name, reasons in found.items() if reasons}


def cannot_line(name: str, reasons: list) -> str:
    return f"{name} cannot reproduce on this engine: {'; '.join(reasons)}"


def report(facts: Facts, scenarios: dict) -> str:
    yes = lambda flag: "yes" if flag else "no"  # noqa: E731
    raises = {True: "yes", False: "no (it cannot raise its own hard limits)", None: "unknown"}
    lines = [
        f"engine       {facts.engine}",
        f"runs on      {'Docker Desktop (a VM)' if facts.desktop else 'a native engine'}: {facts.os}, "
        f"kernel {facts.kernel}",
        f"mode         {'rootless' if facts.rootless else 'rootful'}; userns-remap {yes(facts.userns_remap)}",
        f"cgroup       v{facts.cgroup_version}, driver {facts.cgroup_driver}; pids_limit applied: "
        f"{yes(facts.pids_limit)}; read from {facts.pids_source}",
        f"init         {'docker-init ' + facts.init if facts.init else 'none (init: true cannot work)'}",
        f"dockerd      open files {facts.daemon_nofile}, processes {facts.daemon_nproc}; "
        f"CAP_SYS_RESOURCE: {raises[facts.daemon_raises_limits]}",
    ]
    blocked_ = blocked(scenarios, facts)
    if not blocked_:
        lines.append(f"scenarios    all {len(scenarios)} can reproduce here")
    for name, reasons in blocked_.items():
        lines.append(f"cannot run   {cannot_line(name, reasons)}")
    return "\n".join(lines)
