"""What every lab container runs under, compose's services and scenario containers alike: no
capability, no privilege gained through exec, a read-only root filesystem with one small tmpfs.

compose.yaml states the same in its `x-locked-down` block; tests/lab checks both against this and
against `docker inspect` of running containers. A scenario adds back a capability only by name, with
its reason, in its catalog data (scenarios.vocabulary.spec.Grant).
"""
CAP_DROP = ("ALL",)
SECURITY_OPT = ("no-new-privileges:true",)
# The one place a process may write: the client's curl scripts (mktemp), the workbench's shell.
TMPFS = {"/tmp": "size=16m,mode=1777,nosuid,nodev,noexec"}
# Published ports bind here only: the lab's servers run deliberately broken code.
HOST_IP = "127.0.0.1"


def container_options(cap_add=()) -> dict:
    """The Docker SDK's keyword arguments for a locked-down container, with cap_add added back."""
    return {"cap_drop": list(CAP_DROP), "cap_add": list(cap_add) or None, "security_opt": list(SECURITY_OPT),
            "read_only": True, "tmpfs": dict(TMPFS)}


def confinement(attrs: dict) -> dict:
    """What `docker inspect` says a container runs under, read back from the engine rather than from what
    was asked: a report shows it, and a test holds every scenario's containers to the lockdown with it."""
    config, host = attrs.get("Config") or {}, attrs.get("HostConfig") or {}
    return {"user": config.get("User", ""),
            "cap_drop": list(host.get("CapDrop") or []),
            # The engine says CAP_KILL where the catalog says KILL.
            "cap_add": sorted(cap.removeprefix("CAP_") for cap in host.get("CapAdd") or []),
            "security_opt": list(host.get("SecurityOpt") or []),
            "read_only": bool(host.get("ReadonlyRootfs")),
            "tmpfs": dict(host.get("Tmpfs") or {}),
            "pids_limit": host.get("PidsLimit"),
            "memory": host.get("Memory"),
            "privileged": bool(host.get("Privileged")),
            "published": bool(host.get("PortBindings")),
            "writable_mounts": [mount.get("Destination") for mount in attrs.get("Mounts") or [] if mount.get("RW")]}
