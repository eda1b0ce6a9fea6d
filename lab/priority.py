"""How much CPU the lab's containers get beside other work on the machine: LBAWS_CPU_SHARES.

Docker's --cpu-shares, a weight relative to other containers (1024 is Docker's default, 2 the least);
unset, every container lbaws starts (scenarios, checks, the bench) gets the engine's default. It weighs
only the containers: the engine's own work for them (creating, starting, exec) runs at its priority.
"""
import os

VARIABLE = "LBAWS_CPU_SHARES"
# What cgroup v1's cpu.shares takes; on cgroup v2 the engine maps the same range onto cpu.weight.
LEAST, MOST = 2, 262144


class PriorityError(ValueError):
    """LBAWS_CPU_SHARES is set to something the engine would not take."""


def cpu_shares() -> int | None:
    """The weight LBAWS_CPU_SHARES asks for; None when it is unset or empty."""
    text = os.environ.get(VARIABLE, "").strip()
    if not text:
        return None
    if not text.isdigit() or not LEAST <= int(text) <= MOST:
        raise PriorityError(f"{VARIABLE}={text!r} is not a whole number from {LEAST} to {MOST} "
                            f"(Docker's --cpu-shares)")
    return int(text)


def container_options() -> dict:
    """The Docker SDK's keyword arguments for that weight: none when it is unset."""
    shares = cpu_shares()
    return {} if shares is None else {"cpu_shares": shares}
