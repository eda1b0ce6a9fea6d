"""`make ps`: what of the lab runs: service, stage, limits in force, published port, health.

`python -m lab.status [PROJECT]` shows one Compose project (or scenario run) only."""
import sys

import docker.errors

from lab import cli
from lab.build import ENGINE_ERRORS
from lab.inventory import PROJECT, PROJECT_LABEL, RUN_LABEL, STAGE_LABEL, LabError, connect, label_filter

COLUMNS = ("PROJECT", "SERVICE", "STAGE", "USER", "NOFILE", "NPROC", "PORT", "HEALTH")
LIMIT_NAMES = {"Max open files": "nofile", "Max processes": "nproc"}


def limits_in_force(container):
    """Soft/hard limits of PID 1 from /proc/1/limits (read as root, so it costs the server's UID
    nothing); the configured ulimits when the container cannot run one more process."""
    try:
        result = container.exec_run(["cat", "/proc/1/limits"], user="root")
        if result.exit_code == 0:
            found = {}
            for line in result.output.decode().splitlines():
                for title, key in LIMIT_NAMES.items():
                    if line.startswith(title):
                        soft, hard = line[len(title):].split()[:2]
                        found[key] = f"{soft}/{hard}"
            return found
    except docker.errors.APIError:
        pass
    configured = container.attrs["HostConfig"].get("Ulimits") or []
    return {u["Name"]: f"{u['Soft']}/{u['Hard']}" for u in configured}


def stage_of(container):
    stage = container.labels.get(STAGE_LABEL)
    if stage:
        return stage
    args = container.attrs.get("Args") or []
    return args[1] if len(args) > 1 and args[0] == "serve" else "-"


def published(container):
    ports = container.attrs["NetworkSettings"].get("Ports") or {}
    bound = [f"{b['HostIp']}:{b['HostPort']}" for bindings in ports.values() for b in bindings or []]
    return ",".join(bound) or "-"


def project_of(labels) -> str:
    return labels.get("com.docker.compose.project") or labels.get(RUN_LABEL) or "-"


def row(container):
    labels = container.labels
    limits = limits_in_force(container)
    health = container.attrs["State"].get("Health", {}).get("Status", "-")
    return (project_of(labels),
            labels.get("com.docker.compose.service") or container.name,
            stage_of(container), container.attrs["Config"].get("User") or "root",
            limits.get("nofile", "-"), limits.get("nproc", "-"), published(container), health)


def _still_there(listed):
    """The listed containers, inspected; one removed since the listing (a scenario run ending) runs no more."""
    for container in listed:
        try:
            container.reload()
        except docker.errors.NotFound:
            continue
        yield container


def rows(client, project: str | None = None) -> list[tuple]:
    """One row of COLUMNS per running lab container, of one Compose project or scenario run if given."""
    try:
        listed = client.containers.list(filters={"label": label_filter(PROJECT_LABEL, PROJECT),
                                                 "status": "running"}, sparse=True)
        # Only the project's are inspected and exec'd into: reading another run's limits would take a
        # process slot in its container while it counts them.
        mine = [c for c in listed if project in (None, project_of(c.attrs.get("Labels") or {}))]
        return sorted(row(c) for c in _still_there(mine))
    except ENGINE_ERRORS as exc:
        raise LabError(f"cannot list the lab's containers: {exc}") from exc


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) > 1 or argv[:1] and argv[0].startswith("-"):
        print("usage: python -m lab.status [PROJECT]", file=sys.stderr)
        return 2
    return cli.run(lambda: show(argv[0] if argv else None))


def show(project):
    table = rows(connect(), project)
    if not table:
        where = f" in project {project}" if project else ""
        cli.say(f"status: no lab container is running{where} (start one with `make up server-flask`)")
        return 0
    widths = [max(len(str(r[i])) for r in [COLUMNS, *table]) for i in range(len(COLUMNS))]
    for r in [COLUMNS, *table]:
        cli.say("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
