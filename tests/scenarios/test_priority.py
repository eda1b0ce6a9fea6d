"""LBAWS_CPU_SHARES: the CPU weight of every container a run starts (lab/priority.py), as the engine
records it, and a value the engine would not take refused in one line before anything starts."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab import images, priority
from lab.runs import new_run_id
from scenarios.executor.containers import RunContainers, connect, server_uid
from scenarios.vocabulary.spec import ServerSpec

ROOT = Path(__file__).resolve().parents[2]
LBAWS = str(Path(sys.executable).with_name("lbaws"))


@pytest.mark.parametrize("text,shares", [("", None), ("2", 2), (" 512 ", 512), ("262144", 262144)])
def test_the_weight_is_read_from_the_environment(monkeypatch, text, shares):
    monkeypatch.setenv("LBAWS_CPU_SHARES", text)
    assert priority.cpu_shares() == shares
    assert priority.container_options() == ({} if shares is None else {"cpu_shares": shares})


@pytest.mark.parametrize("text", ["1", "0", "-5", "262145", "low", "2.5"])
def test_a_weight_the_engine_would_refuse_is_an_error(monkeypatch, text):
    monkeypatch.setenv("LBAWS_CPU_SHARES", text)
    with pytest.raises(priority.PriorityError, match="from 2 to 262144"):
        priority.cpu_shares()


def test_a_command_refuses_it_in_one_line_before_starting_anything():
    result = subprocess.run([LBAWS, "scenario", "hello"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "LBAWS_CPU_SHARES": "lots"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == ["lbaws scenario: LBAWS_CPU_SHARES='lots' is not a whole number from 2 "
                                          "to 262144 (Docker's --cpu-shares)"]
    assert "run hello-" not in result.stdout  # no run began, so none has containers to leave


@pytest.mark.container
@pytest.mark.timeout(300)
@pytest.mark.parametrize("text,recorded", [("2", 2), ("", 0)])  # 0: the engine's default weight
def test_every_container_of_a_run_carries_the_weight(monkeypatch, text, recorded):
    monkeypatch.setenv("LBAWS_CPU_SHARES", text)
    engine = connect()
    images.ensure_images(client=engine, roles={"server", "client"})
    containers = RunContainers(engine, "hello", new_run_id("priority"))
    try:
        containers.start_network()
        containers.start_client()
        server = containers.start_server(ServerSpec(stage="3g"), "server-3g", server_uid(), None)
        for each in (containers.client, server):
            each.reload()
            assert each.attrs["HostConfig"]["CpuShares"] == recorded, each.name
    finally:
        containers.cleanup()
