"""What every lab container runs under, compose's services and scenario containers alike: no
capability, no privilege gained through exec, a read-only root filesystem with one small tmpfs.

compose.yaml states the same in its `x-locked-down` block; tests/lab checks both against this and
against `docker inspect` of running containers. A scenario adds back a capability only by name, with
its reason, in its catalog data (scenarios.spec.Grant).
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
