"""`lbaws check --command CMD DIR` and `--image IMAGE`: servers in other languages, judged by the same
experiments. C ports of the text's 3d and 3g, written for these tests and compiled here with the host's
`gcc -static`; a shell-script server in an image built from the lab's server image."""
import json
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path

import docker
import pytest

from lab import inventory
from lab.inventory import PROJECT_LABEL, PROJECT, RUN_LABEL
from scenarios.catalog.lessons import KEEPS_COPY

from checking import LBAWS, ROOT, RUN_ID, SERVERS, Checked, out, row

# The C ports run every experiment of their stage, the floods among them: see tests/check/test_check.py.
pytestmark = [pytest.mark.container, pytest.mark.alone]

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


@pytest.fixture(scope="module")
def shell_image(tmp_path_factory):
    engine = docker.from_env()
    context = tmp_path_factory.mktemp("shell-image")
    (context / "server.sh").write_text(SHELL_SERVER)
    (context / "server.sh").chmod(0o755)
    (context / "Dockerfile").write_text(f"FROM {inventory.image('server')}\nCOPY server.sh /srv/server.sh\n"
                                        f'CMD ["/srv/server.sh"]\n')
    tag = f"lbaws-test-shell-server:{uuid.uuid4().hex[:8]}"
    engine.images.build(path=str(context), tag=tag, rm=True, pull=False, labels={PROJECT_LABEL: PROJECT})
    try:
        yield tag
    finally:
        engine.images.remove(tag, force=True)


@pytest.fixture(scope="module")
def checked(tmp_path_factory, shell_image):
    c3d = compile_c("webserver3d", tmp_path_factory.mktemp("c") / "c3d")
    c3g = compile_c("webserver3g", tmp_path_factory.mktemp("c") / "c3g")
    runs = {
        "c3g": ["--stage", "3g", "--command", "./webserver3g", str(c3g), "--scenario", "client-hang",
                "--scenario", "fd-exhaustion", "--scenario", "waitpid-reaper"],
        "c3d": ["--stage", "3d", "--command", "./webserver3d", str(c3d), "--scenario", "client-hang",
                "--scenario", "fd-exhaustion", "--scenario", "zombies"],
        "c3d-as-3g": ["--stage", "3g", "--command", "./webserver3d", str(c3d), "--scenario", "client-hang"],
        "shell": ["--stage", "1", "--image", shell_image],
    }
    results = {name: Run(name, args, tmp_path_factory.mktemp(name)) for name, args in runs.items()}
    queue, lock = list(results.values()), threading.Lock()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                item = queue.pop(0)
            item.run()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine = docker.from_env()
    ids = {run for r in results.values() for run in RUN_ID.findall(r.out())}
    assert ids and [c.name for run in ids for c in engine.containers.list(
        all=True, filters={"label": f"{RUN_LABEL}={run}"})] == [], "a check left containers behind"
    return results


@pytest.mark.timeout(1800)
def test_a_c_port_of_3g_behaves_as_3g(checked):
    run = checked["c3g"]
    assert run.process.returncode == 0, run.out()
    assert set(run.verdicts().values()) == {"BEHAVES AS THE TEXT'S 3G"}
    report = json.loads(Path(run.row("client-hang")["report"]).read_text())
    assert report["observations"]["3g"][0]["server_file"] == "c3g/ (./webserver3g)"


def test_a_c_port_of_3d_behaves_as_3d(checked):
    run = checked["c3d"]
    assert run.process.returncode == 0, run.out()
    assert set(run.verdicts().values()) == {"BEHAVES AS THE TEXT'S 3D"}
    assert "accept: [Errno 24] Too many open files" in run.row("fd-exhaustion")["observed"]


def test_the_c_3d_in_3gs_place_differs_with_the_fault_and_the_fix(checked):
    run = checked["c3d-as-3g"]
    assert run.process.returncode == 1, run.out()
    assert run.verdicts()["client-hang"] == "DIFFERS"
    observed = run.row("client-hang")["observed"]
    assert observed.startswith("against your server (in 3g's place) curl got status 200 with 'Hello, World!'")
    assert "then hung until its own --max-time 5" in observed and "1 client connection it never closed" in observed
    assert run.row("client-hang")["fix"] == [f"{KEEPS_COPY.fault}: {KEEPS_COPY.fix}"]


def test_a_shell_script_server_in_its_own_image_behaves_as_the_texts_first_server(checked):
    run = checked["shell"]
    assert run.process.returncode == 0, run.out()
    assert run.verdicts() == {"starts": "BEHAVES AS THE TEXT'S 1", "hello": "BEHAVES AS THE TEXT'S 1"}
    assert "'Hello from a shell script!'" in run.row("hello")["observed"]
    assert run.summary["file"].startswith("image lbaws-test-shell-server:")
