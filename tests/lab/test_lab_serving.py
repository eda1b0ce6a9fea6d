"""Each server service answers its framework's text: inside the Compose network and on the host."""
import subprocess

import pytest

from labhelp import TEXTS

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]


@pytest.mark.parametrize("name", TEXTS)
def test_client_container_reaches_server_over_compose_network(lab, name):
    result = lab.exec("client", "curl", "--silent", "--show-error", "--max-time", "10",
                      f"http://server-{name}:8888/hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout == TEXTS[name] + "\n"


@pytest.mark.parametrize("name", TEXTS)
def test_host_reaches_published_port(lab, name):
    result = subprocess.run(["curl", "--silent", "--show-error", "--max-time", "10", "--include",
                             f"http://127.0.0.1:{lab.ports[name]}/hello"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    head, _, body = result.stdout.partition("\n\n")  # text mode turned CRLF into LF
    assert head.startswith("HTTP/1.1 200")
    assert body == TEXTS[name] + "\n"


@pytest.mark.parametrize("name", TEXTS)
def test_port_is_published_on_loopback_only(lab, docker_engine, name):
    container = docker_engine.containers.get(lab.container_id(f"server-{name}"))
    bindings = container.attrs["NetworkSettings"]["Ports"]["8888/tcp"]
    assert bindings == [{"HostIp": "127.0.0.1", "HostPort": str(lab.ports[name])}]
