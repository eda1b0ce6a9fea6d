"""The reader's servers in other languages that the flood checks judge: C ports of the text's 3d and 3g,
written for these tests and compiled here with the host's `gcc -static`, and a shell-script server in an
image built from the lab's server image."""
import shutil
import subprocess
import time
import uuid

import docker
import pytest

from lab import inventory
from lab.inventory import PROJECT_LABEL, PROJECT

from checking import LBAWS, ROOT, SERVERS, Checked, out, row

SHELL_SERVER = """#!/bin/bash
# Part 1's server as a shell script: netcat answers one connection, whatever it says, then the loop
# listens again. -N sends the FIN once the response is written.
echo "Serving HTTP on port 8888 ..."
while true; do
  printf 'HTTP/1.1 200 OK\\r\\n\\r\\nHello from a shell script!\\n' | nc -N -l 8888 >/dev/null
done
"""


def compile_c(name, folder):
    if shutil.which("gcc") is None:
        pytest.fail("gcc is needed on the host to build the C servers (Debian: gcc, libc6-dev)")
    folder.mkdir()
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", str(folder / name), str(SERVERS / "c" / f"{name}.c")],
                   check=True, capture_output=True, text=True, timeout=120)
    return folder


class Run(Checked):
    """A check of a folder or an image: its arguments name what runs, not a file of tests/servers."""

    def run(self):
        started = time.monotonic()
        self.process = subprocess.run([LBAWS, "check", *self.args, "--reports", str(self.reports)],
                                      capture_output=True, text=True, timeout=900, cwd=ROOT)
        self.duration = time.monotonic() - started

    def row(self, scenario):
        return row(self, scenario)

    def out(self):
        return out(self)


def build_shell_image(context):
    """The lab's server image with the shell server as its command; its tag."""
    engine = docker.from_env()
    (context / "server.sh").write_text(SHELL_SERVER)
    (context / "server.sh").chmod(0o755)
    (context / "Dockerfile").write_text(f"FROM {inventory.image('server')}\nCOPY server.sh /srv/server.sh\n"
                                        f'CMD ["/srv/server.sh"]\n')
    tag = f"lbaws-test-shell-server:{uuid.uuid4().hex[:8]}"
    engine.images.build(path=str(context), tag=tag, rm=True, pull=False, labels={PROJECT_LABEL: PROJECT})
    return tag


def remove_image(tag):
    docker.from_env().images.remove(tag, force=True)


def runs(tmp_path_factory, shell_image):
    """{name: Run} of the other languages' checks, not yet run."""
    c3d = compile_c("webserver3d", tmp_path_factory.mktemp("c") / "c3d")
    c3g = compile_c("webserver3g", tmp_path_factory.mktemp("c") / "c3g")
    args = {
        "c3g": ["--stage", "3g", "--command", "./webserver3g", str(c3g), "--scenario", "client-hang",
                "--scenario", "fd-exhaustion", "--scenario", "waitpid-reaper"],
        "c3d": ["--stage", "3d", "--command", "./webserver3d", str(c3d), "--scenario", "client-hang",
                "--scenario", "fd-exhaustion", "--scenario", "zombies"],
        "c3d-as-3g": ["--stage", "3g", "--command", "./webserver3d", str(c3d), "--scenario", "client-hang"],
        "shell": ["--stage", "1", "--image", shell_image],
    }
    return {name: Run(name, each, tmp_path_factory.mktemp(name)) for name, each in args.items()}
