"""The runner's own containers, locked down (`docker inspect` of each running server and client, item by item,
with exactly the capabilities its data grants), and the probes still reading what the judges need without any
capability: one trial of each kind the probes read (every scenario's containers are held to the lockdown by its
own run, in test_scenarios.py)."""
import time
from pathlib import Path

import pytest

from lab import images, inventory, lockdown
from lockdown_checks import check_confined
from scenarios import catalog
from scenarios.vocabulary import spec
from lab.runs import new_run_id
from scenarios.executor.containers import PORT, RunContainers, connect, server_uid
from scenarios.executor.probe import Probe
from scenarios.executor.sampler import Sampler

pytestmark = [pytest.mark.container, pytest.mark.timeout(600)]

SERVERS = Path(__file__).resolve().parents[1] / "servers"


@pytest.fixture(scope="module")
def engine():
    """The engine, with the lab's images current: these tests start containers without the runner,
    which would otherwise build them (and a missing image would be pulled, which fails offline)."""
    engine = connect()
    images.ensure_images(client=engine)
    return engine


@pytest.fixture
def run(engine):
    """A run's network and client, as the runner starts them; everything labelled with it removed after."""
    started = []

    def start(name):
        containers = RunContainers(engine, name, new_run_id(f"lockdown-{name}"))
        started.append(containers)
        containers.start_network()
        containers.start_client()
        return containers
    yield start
    for containers in started:
        containers.cleanup()


def check_locked_down(attrs, user, cap_add=(), root=False):
    assert attrs["State"]["Running"]
    check_confined(lockdown.confinement(attrs), user, cap_add, root)


def wait_listening(server, probe):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        server.reload()
        assert server.status == "running", server.logs().decode(errors="replace")
        if probe.listening(PORT):
            return probe.find_server()
        time.sleep(0.2)
    pytest.fail(f"{server.name} never listened on {PORT}")


def start_trial(containers, server_spec, alias, kernel_count=False):
    uid = server_uid()
    sleep = spec.seconds(server_spec.sleep, 0.1) if server_spec.sleep is not None else None
    server = containers.start_server(server_spec, alias, uid, sleep)
    probe = Probe(server.name, 0 if server_spec.root else uid, kernel_count)
    pid = wait_listening(server, probe)
    return server, uid, probe, pid


def probe_kinds() -> dict:
    """One trial of the catalog for each way its probes read a server: as the server's UID or by the
    kernel's count, as root or not, with a capability granted or none, beside a neighbour or alone.
    Every container of every scenario is held to the lockdown by its own run (test_scenarios.py reads
    each one's confinement from its report); here the probes are shown to need no capability."""
    kinds = {}
    for name, scenario in catalog.all_scenarios().items():
        for trial in scenario.trials:
            kind = (trial.fd_count is spec.FdCount.KERNEL, trial.server.root, bool(trial.server.cap_add),
                    trial.neighbour is not None)
            kinds.setdefault(kind, (name, trial.key))
    return kinds


PROBE_KINDS = probe_kinds()


@pytest.mark.parametrize("name,key", PROBE_KINDS.values(), ids=[f"{n}-{k}" for n, k in PROBE_KINDS.values()])
def test_the_probes_read_a_locked_down_server_without_any_capability(run, engine, name, key):
    (trial,) = [trial for trial in catalog.get(name).trials if trial.key == key]
    containers = run(name)
    check_locked_down(containers.engine.api.inspect_container(containers.client.id), inventory.CLIENT_UID)
    if trial.neighbour is not None:
        neighbour = trial.neighbour.server
        server, uid, _, _ = start_trial(containers, neighbour, f"server-{trial.key}-{trial.neighbour.role}")
        check_locked_down(engine.api.inspect_container(server.id), uid, neighbour.cap_add, neighbour.root)
        server.remove(force=True)
    # Root's own server (pids-cgroup) is sampled by the kernel's count too: root may read its own.
    kernel = trial.fd_count is spec.FdCount.KERNEL or trial.server.root
    server, uid, probe, pid = start_trial(containers, trial.server, f"server-{trial.key}", kernel)
    check_locked_down(engine.api.inspect_container(server.id), uid, trial.server.cap_add, trial.server.root)
    # The probes as the runner takes them, without a capability: the samples as the server's UID
    # (or by the kernel's count as root), the fd listing as the server's UID. The server waits in
    # accept(), which holds one reserved descriptor that only the kernel's count includes.
    sample = probe.sample(pid, time.monotonic())
    snapshot = probe.snapshot(pid)
    assert sample.alive and sample.fds == snapshot.fd_count + kernel, (sample, snapshot.fd_listing)
    # The sampler's stream reads the same without a capability, and its loop ends when asked.
    sampler = Sampler(probe, pid, time.monotonic()).start()
    streamed = sampler.next(timeout=10)
    sampler.stop(end_stream=True)
    assert streamed.alive and streamed.fds == sample.fds and streamed.procs == sample.procs, (streamed, sample)
    assert sampler.stream_pid is not None and sampler.stream_pid not in {p.pid for p in probe.processes()}
    assert "socket:" in snapshot.fd_listing
    assert snapshot.limits["Max processes"][0] == str(trial.server.limits.nproc)
    server.remove(force=True)


def test_the_probe_kinds_cover_root_the_kernels_count_a_grant_and_a_neighbour():
    kinds = list(PROBE_KINDS)
    assert any(kernel for kernel, _, _, _ in kinds) and any(root for _, root, _, _ in kinds)
    assert any(neighbour for _, _, _, neighbour in kinds) and (False, False, False, False) in kinds
    assert len(kinds) < sum(len(scenario.trials) for scenario in catalog.all_scenarios().values())


def test_a_readers_file_comes_in_read_only_and_a_grant_is_the_only_capability_added(run, engine):
    containers = run("lockdown-grant")
    grant = spec.Grant("KILL", "this test: a grant reaches the container by name and nothing else does")
    server_spec = spec.ServerSpec(stage="3g", file=str(SERVERS / "webserver3g.py"), grants=(grant,))
    server, uid, probe, pid = start_trial(containers, server_spec, "server-mine")
    attrs = engine.api.inspect_container(server.id)
    check_locked_down(attrs, uid, ["KILL"])
    (mount,) = attrs["Mounts"]
    assert (mount["Destination"], mount["RW"]) == ("/srv/lbaws-check/webserver3g.py", False)
    # The grant is in the bounding set (bit 5, CAP_KILL), and only it. A process exec'd as root gets
    # none of it in effect: no-new-privileges keeps what the container's non-root user had, nothing.
    status = dict(line.split(":\t") for line in probe.run("grep ^Cap /proc/self/status").stdout.splitlines())
    assert status["CapBnd"] == f"{1 << 5:016x}"
    assert status["CapEff"] == status["CapPrm"] == "0" * 16
