"""`lbaws bench --quick` for real: every server in its container answers wrk and gets its figures, the
files are written, and Ctrl-C leaves no container or network behind. Never how big the figures are."""
import json
import re
import signal
import subprocess
import time

import docker
import pytest

from lab.inventory import RUN_LABEL, RUNNER_LABEL, label_filter
from bench import servers
from benchhelp import ROOT, bench_command

pytestmark = [pytest.mark.container, pytest.mark.timeout(600)]
RUN_LINE = re.compile(r"^bench: run ([0-9a-f]+): starting", re.M)


def leftovers(run_id):
    engine = docker.from_env()
    try:
        only = {"label": label_filter(RUN_LABEL, run_id)}
        return ([c.name for c in engine.containers.list(all=True, filters=only)] +
                [n.name for n in engine.networks.list(filters=only)])
    finally:
        engine.close()


def inspected(run_id):
    engine = docker.from_env()
    try:
        only = {"label": label_filter(RUN_LABEL, run_id)}
        return [container.attrs for container in engine.containers.list(all=True, filters=only)]
    finally:
        engine.close()


@pytest.mark.bench
def test_quick_gives_every_server_its_figures_and_writes_the_files(bench_images, run_bench, tmp_path):
    started = time.monotonic()
    result = run_bench("--quick", "--reports", str(tmp_path), timeout=300)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    document = json.loads((tmp_path / "bench.json").read_text())
    assert document["where"] == "lab containers, wrk in each server's network namespace"
    assert document["settings"]["rounds"] >= 3
    rows = document["results"]
    assert {row["server"] for row in rows} == set(servers.SERVERS_BY_NAME)
    assert {(row["mode"], row["connections"]) for row in rows} == {("keep-alive", 32), ("close", 32)}
    for row in rows:
        name = f"{row['server']} {row['mode']}"
        assert row["failures"] == [], name
        assert len(row["runs"]) == document["settings"]["rounds"], name
        assert all(run["requests"] > 0 for run in row["runs"]), name
        assert row["requests_per_s"]["min"] <= row["requests_per_s"]["median"] <= row["requests_per_s"]["max"]
        kept = document["kept_connection"][f"{row['server']}-wsgi-1cpu"]
        # Ratios in keep-alive mode only for the servers that kept the connection; every one in close mode.
        assert (row["ratio_to_granian"] is not None) is (row["mode"] == "close" or kept), name
    kept = document["kept_connection"]
    assert kept["lbaws-prefork-wsgi-1cpu"] and kept["gunicorn-gthread-wsgi-1cpu"] and kept["granian-wsgi-1cpu"]
    assert not kept["gunicorn-sync-wsgi-1cpu"] and not kept["wsgiref-wsgi-1cpu"]
    assert "lbaws-prefork-wsgi-1cpu" in document["worker_shares"]
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = result.stdout[result.stdout.index("cpus "):result.stdout.index("\nheadline: ")]
    headlines = [line for line in result.stdout.splitlines() if line.startswith("headline: lbaws-prefork wsgi ")]
    assert len(headlines) == 2 and all("x granian" in line for line in headlines), headlines
    for name in servers.SERVERS_BY_NAME:
        assert len([line for line in table.splitlines() if f" {name} " in line]) == 2, name
    assert leftovers(RUN_LINE.search(result.stdout).group(1)) == []
    print(f"lbaws bench --quick took {took:.0f} s")


# Not a bench run for the lock (tests/conftest.py): it is interrupted once wrk has run once, and reads no figure.
def test_ctrl_c_removes_the_runs_containers_and_network(bench_images, tmp_path):
    process = subprocess.Popen([*bench_command(), "--quick", "--reports", str(tmp_path)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_id = None
    try:
        deadline = time.monotonic() + 180
        for line in process.stdout:
            match = RUN_LINE.match(line)
            run_id = run_id or (match and match.group(1))
            if re.match(r"\s+\[\d+/", line):  # wrk has run once: every server is up
                break
            assert time.monotonic() < deadline, "the bench never started measuring"
        assert run_id and leftovers(run_id), "the run's containers should exist while it measures"
        for attrs in inspected(run_id):
            host = attrs["HostConfig"]
            assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"], attrs["Name"]
            assert set(host["Tmpfs"]) == {"/tmp"}, attrs["Name"]
            assert RUNNER_LABEL in attrs["Config"]["Labels"], attrs["Name"]
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert err.splitlines() == ["lbaws bench: interrupted; this run's servers and network were removed"]
    assert leftovers(run_id) == []
    assert not (tmp_path / "bench.json").exists()
