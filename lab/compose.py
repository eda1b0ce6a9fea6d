"""`docker compose` on the lab's compose.yaml under one project name, for tests and tools."""
import os
import subprocess

from lab.inventory import LabError
from lab.paths import ROOT

COMPOSE_FILE = ROOT / "compose.yaml"


class ComposeError(LabError):
    """A compose command failed; the message carries its last lines of output."""


class ComposeProject:
    def __init__(self, name, env=None):
        self.name = name
        self.env = dict(os.environ if env is None else env)

    def run(self, *args, timeout=120, check=True):
        cmd = ["docker", "compose", "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE),
               "-p", self.name, *args]
        try:
            result = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise ComposeError(f"`docker compose {' '.join(args)}` did not finish in {timeout} s") from exc
        if check and result.returncode != 0:
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
            raise ComposeError(f"`docker compose {' '.join(args)}` failed ({result.returncode}): {tail}")
        return result

    def up(self, *services, wait_timeout=120):
        """Start services (all by default) and wait until their healthchecks pass."""
        return self.run("up", "--detach", "--wait", "--wait-timeout", str(wait_timeout), *services,
                        timeout=wait_timeout + 60)

    def down(self):
        # Every profile: `down` alone leaves a service of a profile (the workbench) running.
        return self.run("--profile", "*", "down", "--volumes", "--remove-orphans", "--timeout", "5", timeout=120,
                        check=False)

    def exec(self, service, *cmd, user=None, timeout=60):
        user_args = ["--user", user] if user else []
        return self.run("exec", "-T", *user_args, service, *cmd, timeout=timeout, check=False)

    def container_id(self, service):
        out = self.run("ps", "--quiet", service).stdout.split()
        if not out:
            raise ComposeError(f"service {service} of project {self.name} has no running container")
        return out[0]

    def logs(self):
        return self.run("logs", "--no-color", "--timestamps", timeout=60, check=False).stdout
