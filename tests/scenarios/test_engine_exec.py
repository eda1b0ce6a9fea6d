"""The probes' testinfra backend against a real container: what `docker exec` would have said, through the API."""
import pytest

from lab import images
from lab.runs import new_run_id
from scenarios.executor.containers import RunContainers, connect
from scenarios.executor.engine_exec import host

pytestmark = [pytest.mark.container, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def client_container():
    engine = connect()
    images.ensure_images(client=engine)
    containers = RunContainers(engine, "engine-exec", new_run_id("engine-exec"))
    try:
        containers.start_network()
        containers.start_client()
        yield containers.client
    finally:
        containers.cleanup()


def test_a_command_gives_its_output_its_errors_and_its_status(client_container):
    result = host(f"root@{client_container.name}").run("echo out; echo err >&2; exit 3")
    assert (result.stdout, result.stderr, result.rc) == ("out\n", "err\n", 3)


def test_the_user_is_the_one_named_and_testinfra_modules_read_through_it(client_container):
    nobody = host(f"65534@{client_container.name}")
    assert nobody.run("id -u").stdout.strip() == "65534"
    assert nobody.run("echo %s", "a b; c").stdout == "a b; c\n"  # testinfra's quoting holds
    assert nobody.process.get(pid=1).pid == 1


def test_a_container_that_is_gone_is_a_failed_command_not_an_exception():
    result = host("root@lbaws-no-such-container").run("true")
    assert result.rc == 1 and "No such container" in result.stderr

