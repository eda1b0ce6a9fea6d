"""Every compose service runs locked down: `docker inspect` of each running container, item by item,
and what that means inside it (no capability in effect, no-new-privileges, a root filesystem that
refuses writes, /tmp that takes them)."""
import json

import pytest

from lab import inventory, lockdown
from labhelp import NPROC

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]

UIDS = {**{app.service: app.uid for app in inventory.APPS}, "client": inventory.CLIENT_UID,
        "workbench": inventory.WORKBENCH_UID}
# compose.yaml's defaults (the servers' pids limit and memory are LBAWS_PIDS_LIMIT, LBAWS_MEMORY).
PIDS = {**{app.service: 1024 for app in inventory.APPS}, "client": 4096, "workbench": 1536}
MEMORY = {**{app.service: 512 << 20 for app in inventory.APPS}, "client": 1 << 30, "workbench": 1 << 30}
NO_CAPABILITY = "0000000000000000"


def status_fields(text):
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def check_locked_down(attrs, service, ports=None):
    """Every item of `docker inspect` the lockdown sets, against what compose.yaml declares."""
    config, host = attrs["Config"], attrs["HostConfig"]
    assert attrs["State"]["Running"], service
    assert config["User"] == str(UIDS[service]) and UIDS[service] != 0
    assert host["CapDrop"] == list(lockdown.CAP_DROP)
    assert not host["CapAdd"]  # None or []: nothing added back to a compose service
    assert host["SecurityOpt"] == list(lockdown.SECURITY_OPT)
    assert host["ReadonlyRootfs"] is True
    assert host["Tmpfs"] == lockdown.TMPFS
    assert host["PidsLimit"] == PIDS[service]
    assert host["Memory"] == MEMORY[service]
    assert not host["Privileged"]
    bindings = host["PortBindings"] or {}
    if ports is None:
        assert bindings == {} or all(not b for b in bindings.values()), bindings
    else:
        assert bindings == {"8888/tcp": [{"HostIp": lockdown.HOST_IP, "HostPort": str(ports)}]}
        published = attrs["NetworkSettings"]["Ports"]["8888/tcp"]
        assert {b["HostIp"] for b in published} == {lockdown.HOST_IP}


def check_inside(project, service):
    """What the kernel enforces on a process exec'd into the container, as root and as the service."""
    for user in ("root", str(UIDS[service])):
        status = status_fields(project.exec(service, "cat", "/proc/self/status", user=user).stdout)
        assert (status["CapEff"], status["CapPrm"], status["CapBnd"]) == (NO_CAPABILITY,) * 3, (service, user)
        assert status["NoNewPrivs"] == "1", (service, user)
    refused = project.exec(service, "sh", "-c", "echo x > /probe", user="root")
    assert refused.returncode != 0 and "Read-only file system" in refused.stderr
    written = project.exec(service, "sh", "-c", "echo x > /tmp/probe && cat /tmp/probe && rm /tmp/probe")
    assert (written.returncode, written.stdout) == (0, "x\n")


def test_compose_states_the_lockdown_of_lab_lockdown(lab):
    config = json.loads(lab.run("--profile", "workbench", "config", "--format", "json").stdout)
    tmpfs = [f"{path}:{options}" for path, options in lockdown.TMPFS.items()]
    for name, service in config["services"].items():
        assert service["cap_drop"] == list(lockdown.CAP_DROP) and "cap_add" not in service, name
        assert service["security_opt"] == list(lockdown.SECURITY_OPT), name
        assert (service["read_only"], service["tmpfs"]) == (True, tmpfs), name
        assert service["user"] == str(UIDS[name]), name
        for port in service.get("ports", []):
            assert port["host_ip"] == lockdown.HOST_IP, name


@pytest.mark.parametrize("service", [app.service for app in inventory.APPS] + ["client"])
def test_each_running_service_is_locked_down(lab, docker_engine, service):
    attrs = docker_engine.api.inspect_container(lab.container_id(service))
    role = service.removeprefix("server-")
    check_locked_down(attrs, service, lab.ports.get(role) if service != "client" else None)
    check_inside(lab, service)
    if service != "client":
        # The lesson's limit still bites under the lockdown: the service's own UID, its own nproc.
        limits = lab.exec(service, "cat", "/proc/1/limits").stdout
        assert f"Max processes             {NPROC}" in limits


def test_the_workbench_is_locked_down(compose_project, docker_engine):
    project = compose_project("workbench")
    attrs = docker_engine.api.inspect_container(project.container_id("workbench"))
    check_locked_down(attrs, "workbench")
    assert attrs["HostConfig"]["NetworkMode"] == "none"
    assert [(m["Destination"], m["RW"]) for m in attrs["Mounts"]] == [(inventory.WORKBENCH_MOUNT, False)]
    check_inside(project, "workbench")
