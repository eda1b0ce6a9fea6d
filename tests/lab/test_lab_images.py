"""lab.images as the scenario runner uses it: failures reach the caller and leave nothing behind, and
the images carry the server alone."""
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import docker.errors
import pytest

from lab import base, build, debs, images, inventory, wheelhouse
from lab.paths import ROOT

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]
TEST_LABEL = "org.lbaws-lab.test-build"


@pytest.fixture
def broken_spec(docker_engine, tmp_path):
    """A leaf image whose RUN step fails, under a throwaway name; whatever it leaves is removed after."""
    token = secrets.token_hex(4)
    dockerfile = tmp_path / "broken.Dockerfile"
    # The LABEL step commits an image before RUN fails, so a build that left its steps behind shows.
    dockerfile.write_text(textwrap.dedent(f"""\
        ARG RUNTIME
        FROM ${{RUNTIME}}
        LABEL {TEST_LABEL}={token}
        RUN echo "failing on purpose" && exit 3
        """))
    yield token, build.Spec(f"lbaws-lab/test-broken-{token}:latest", str(dockerfile), inventory.RUNTIME_IMAGE,
                            {"RUNTIME": inventory.RUNTIME_IMAGE})
    only = {"label": f"{TEST_LABEL}={token}"}
    for container in docker_engine.containers.list(all=True, filters=only):
        container.remove(force=True)
    for image in docker_engine.images.list(all=True, filters=only):
        try:
            docker_engine.images.remove(image.id, force=True)
        except docker.errors.NotFound:
            pass


def test_a_build_failing_in_a_pool_thread_reaches_the_caller_and_leaves_nothing(
        lab_images, docker_engine, broken_spec, monkeypatch):
    token, broken = broken_spec
    real_specs = images.specs
    # After runtime and server, so it builds on the pool beside the (current) leaves.
    monkeypatch.setattr(images, "specs", lambda *parts: [*real_specs(*parts), broken])
    heard = []
    with pytest.raises(inventory.LabError) as caught:
        images.ensure_images(heard.append)
    assert type(caught.value) is inventory.LabError
    assert str(caught.value).startswith(f"building {broken.name} failed: ")
    assert "returned a non-zero code: 3" in str(caught.value)
    # The very exception build.ensure raised on the worker, not a copy made on the way out.
    assert any(entry.path.name == "build.py" for entry in caught.traceback)
    assert heard[0] == f"images: building {broken.name}"
    assert not any("built" in line for line in heard)

    only = {"label": f"{TEST_LABEL}={token}"}
    assert docker_engine.images.list(all=True, filters=only) == []
    assert docker_engine.containers.list(all=True, filters=only) == []
    with pytest.raises(docker.errors.ImageNotFound):
        docker_engine.images.get(broken.name)
    assert not list(build.CONTEXTS.glob(f"test-broken-{token}-*"))


def test_the_images_wheel_holds_the_server_alone(lab_images):
    wheels = list(wheelhouse.ensure_own().glob("*.whl"))
    assert len(wheels) == 1
    tops = wheelhouse.wheel_tops(wheels[0])
    assert tops == {"lbaws", f"lbaws-{wheelhouse.version()}.dist-info"}


def run_in_server_image(*command, image=inventory.SERVER_IMAGE):
    """`docker run --rm` of a lab image (the server's by default) under a name of its own, removed even on a
    timeout."""
    name = f"lbaws-test-image-{secrets.token_hex(4)}"
    try:
        return subprocess.run(["docker", "run", "--rm", "--name", name, image, *command],
                              capture_output=True, text=True, timeout=120)
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True, timeout=60)


def test_the_client_image_has_debians_wrk_from_the_host_downloaded_debs(lab_images):
    result = run_in_server_image("sh", "-c", "wrk --version; dpkg-query -W -f '${Version}' wrk",
                                 image=inventory.CLIENT_IMAGE)
    assert result.stdout.startswith("wrk debian/4.1.0"), result.stdout + result.stderr
    deb = next(debs.DEBS.glob("wrk_*.deb")).name
    assert deb.startswith(f"wrk_{result.stdout.splitlines()[-1]}_")


def test_the_bench_image_has_the_pinned_competitors_and_the_apps(lab_images):
    pins = wheelhouse.bench_pins()
    names = tuple(pin.partition("==")[0] for pin in pins)
    assert set(names) == {"gunicorn", "waitress", "cheroot", "granian"}
    result = run_in_server_image("python", "-c", "import importlib.metadata as m, flaskapp, wsgiapp; "
                                 f"print(' '.join(f'{{n}}=={{m.version(n)}}' for n in {names!r}))",
                                 image=inventory.BENCH_IMAGE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == pins


@pytest.mark.parametrize("package", ["lab", "scenarios"])
def test_the_server_image_cannot_import_the_harness(lab_images, package):
    result = run_in_server_image("python", "-c", f"import {package}")
    assert result.returncode == 1
    assert f"No module named '{package}'" in result.stderr


SERVE_AND_ASK = """\
import socket, subprocess, time
server = subprocess.Popen(["lbaws", "serve", "1", "--port", "8888", "--quiet"])
deadline = time.monotonic() + 20
while True:
    try:
        sock = socket.create_connection(("127.0.0.1", 8888), timeout=10)
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.1)
with sock:
    sock.sendall(b"GET /hello HTTP/1.1\\r\\nHost: lab\\r\\n\\r\\n")
    answer = b""
    while chunk := sock.recv(4096):
        answer += chunk
print(answer.decode())
server.terminate()
server.wait(timeout=10)
"""


def test_lbaws_serve_works_in_the_server_image(lab_images):
    result = run_in_server_image("python", "-c", SERVE_AND_ASK)
    assert result.returncode == 0, result.stderr
    assert "Hello, World!" in result.stdout


def test_lbaws_scenario_in_the_server_image_says_the_harness_is_missing(lab_images):
    result = run_in_server_image("lbaws", "scenario", "--list")
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr


@pytest.fixture
def fresh_tag(docker_engine):
    """An image tag no image has yet, on the base the session's images use; its images removed after."""
    tag = f"test-first-{secrets.token_hex(4)}"
    yield tag, base.ensure_base(docker_engine)
    for image in docker_engine.images.list(filters={"label": f"{inventory.PROJECT_LABEL}={inventory.PROJECT}"}):
        for name in image.tags:
            if name.endswith(f":{tag}"):
                docker_engine.images.remove(name, force=True)


def tagged(docker_engine, tag):
    # The listing's own tags: an inspect per image would fail on one another test removes meanwhile.
    return {name for image in docker_engine.api.images() for name in image.get("RepoTags") or ()
            if name.endswith(f":{tag}")}


def test_a_first_scenario_builds_only_the_images_it_runs_and_the_rest_comes_when_asked(
        lab_images, docker_engine, fresh_tag, tmp_path):
    tag, base_image = fresh_tag
    env = {**os.environ, "LBAWS_IMAGE_TAG": tag, "LBAWS_BASE": base_image}
    lbaws = Path(sys.executable).with_name("lbaws")
    result = subprocess.run([str(lbaws), "scenario", "hello", "--reports", str(tmp_path)], env=env,
                            capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hello: REPRODUCED" in result.stdout
    # hello runs stage 1 in the server image and curl in the client's: those and the runtime they build on.
    assert tagged(docker_engine, tag) == {f"lbaws-lab/runtime:{tag}", f"lbaws-lab/server:{tag}",
                                          f"lbaws-lab/client:{tag}"}
    # A run that needs the bare WSGI app's image builds that one then, and nothing it already has.
    later = subprocess.run([sys.executable, "-c", "from lab import images; from lab.cli import say; "
                            "images.ensure_images(say, roles=['wsgi', 'client'])"],
                           env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert later.returncode == 0, later.stderr
    built = [line for line in later.stdout.splitlines() if line.startswith("images: built ")]
    assert [line.split()[2] for line in built] == [f"lbaws-lab/app-wsgi:{tag}"], later.stdout
    assert tagged(docker_engine, tag) == {f"lbaws-lab/runtime:{tag}", f"lbaws-lab/server:{tag}",
                                          f"lbaws-lab/client:{tag}", f"lbaws-lab/app-wsgi:{tag}"}
