"""Every scenario, run for real in containers as a user runs it, must reproduce the text.

Each test runs `lbaws scenario NAME --fast` (the text's limits and client counts, sleeps scaled down),
checks the exit status and verdict, a few key numbers from report.json, and that nothing of the run
is left on the engine.
"""
import json
import re
import signal
import subprocess
import threading
import time

import docker
import pytest
from lockdown_checks import check_run_confined

from lab.inventory import RUN_LABEL, label_filter
from scenarios import catalog
from scenarios.catalog import iterative_blocking
from lab.runs import removal_command

pytestmark = [pytest.mark.scenario, pytest.mark.container]

RUN = re.compile(r"run (\S+): containers and network labelled")


def leftovers(run_id):
    engine = docker.from_env()
    label = {"label": label_filter(RUN_LABEL, run_id)}
    # sparse: no inspect of each container, which a container removed meanwhile would turn into NotFound.
    return ([c.attrs["Names"][0].lstrip("/") for c in engine.containers.list(all=True, sparse=True, filters=label)]
            + [n.name for n in engine.networks.list(filters=label)])


def run_scenario(run_cli, tmp_path, name, *extra):
    result = run_cli(name, "--fast", "--reports", str(tmp_path), *extra, timeout=600)
    report_file = tmp_path / name / "report.json"
    assert report_file.exists(), result.stdout + result.stderr
    report = json.loads(report_file.read_text())
    assert leftovers(report["run_id"]) == []
    return result, report


def check_hello(n):
    assert n["curl_status"] == 200 and n["garbage_answered"] is True


def check_frameworks(n):
    assert n["bodies"]["django"] == "Hello world from Django!"
    assert n["built_on_server_layers"] is True and len(n["lbaws_digest"]) == 64


def check_iterative_blocking(n):
    # The delay is read as if the shell's gap were exact; on a busy machine it overshoots (the judge's SLACK).
    assert n["delay_between_responses_s"] >= n["sleep_s"] - iterative_blocking.SLACK and n["first_ttfb_s"] < 2


def check_concurrent_fork(n):
    # 10 curls at once: 3c forks a child for each, answers all, and reaps none of them.
    assert n["clients"] == 10
    assert n["answered"] == 10 and n["children_seen"] == 10 and n["zombies_left"] == 10


def check_served_at_once(n):
    assert n["3b_ttfb_s"] >= n["silent_s"] / 2 and n["3g_ttfb_s"] < 1.0
    assert n["3b_status"] == n["3g_status"] == 200


def check_client_hang(n):
    assert (n["curl_3d_exit"], n["curl_3g_exit"]) == (28, 0)


def check_fd_exhaustion(n):
    assert 200 < n["accepted"] < 256
    assert "[Errno 24] Too many open files" in n["error"]
    assert n["fds_at_death"] == 256 and n["3g_survived"] is True


def check_zombies(n):
    # The scenario sends 5 requests to 3d: the text's lesson is one zombie for each, and kill -9 removes none.
    assert n["requests"] == 5
    assert n["zombies"] == 5 and n["killed"] == 5 and n["survived_kill_9"] == 5


def check_nproc_exhaustion(n):
    assert 300 < n["children_at_death"] < 400
    assert "[Errno 11] Resource temporarily unavailable" in n["error"]


def check_sigchld_eintr(n):
    assert n["py3_3e_alive"] is True and n["py2_3f_alive"] is True
    assert "[Errno 4] Interrupted system call" in n["py2_3e_error"]


def check_missed_signals(n):
    # 5 runs of 128 clients: in at least half of them one wait() per SIGCHLD left a zombie behind.
    assert n["runs"] == 5 and n["clients"] == 128
    assert n["runs_with_zombies"] >= 3 and n["rate"] >= 0.5


def check_waitpid_reaper(n):
    assert n["128_zombies_after"] == n["1000_zombies_after"] == 0
    assert n["1000_responses"] == 1000 and n["1000_final_fds"] == n["1000_baseline_fds"]


def check_concurrent_wsgi(n):
    # 8 clients at once, each request sleeping the app's /slow default of 1 s: one at a time would take 8 s.
    assert (n["clients"], n["per_request_s"]) == (8, 1.0)
    for app in ("flask", "pyramid", "django", "wsgi"):
        assert n[f"{app}_answered"] == 8 and n[f"{app}_zombies_after"] == 0
        # Concurrently, the slowest answer comes long before the 8 s a queue of 8 would take.
        assert 1.0 <= n[f"{app}_slowest_ttfb_s"] < 3.0


def check_prefork_respawn(n):
    # The scenario: 2 workers (the stage's default), 16 kept connections asking 200 requests/s for 12 s.
    assert (n["clients"], n["rate"]) == (16, 200.0)
    assert len(n["workers_before"]) == 2 and n["victim"] in n["workers_before"]
    assert n["victim"] not in n["workers_after"] and len(n["workers_after"]) == 2 and len(n["replaced_by"]) == 1
    assert set(n["workers_after"]) - set(n["workers_before"]) == set(n["replaced_by"])
    assert n["zombies_after_kill"] == 0 and n["zombies_at_end"] == 0
    # Only the dead worker's connections felt it: some of the 16, not all, were opened anew (found closed,
    # or lost with a request in flight); each lost one request at most.
    assert 1 <= n["new_connections"] < 16 and n["reconnects"] <= n["new_connections"]
    assert n["failed_requests"] <= n["new_connections"]
    # The survivor carried the load: every whole second after the kill's own (the last one is partial)
    # served at least half the 200 requests/s asked, and none went without answers.
    after = n["requests_per_second"][n["kill_second"] + 1:-1]
    assert len(after) >= 5, n["requests_per_second"]
    assert min(after) > 0 and sum(after) / len(after) >= 100, after


def check_prefork_hung_worker(n):
    assert n["victim"] in n["workers_before"] and n["victim"] not in n["workers_after"]
    assert n["timed_out_workers"] == [n["victim"]] and len(n["workers_after"]) == 2
    assert n["hung_status"] is None and n["worker_timeout_s"] <= n["hung_total_s"] < n["worker_timeout_s"] + 3
    # The other worker served all along: no second of the hang without responses.
    assert n["rps_lowest_during"] > 0 and n["rps_after"] >= 0.8 * n["rps_before"] > 0
    assert n["zombies_at_end"] == 0


def check_orphan_reaping(n):
    k = 5  # the scenario's requests: each leaves one orphan
    assert n["requests"] == k
    assert n["3d_pid1"] == "lbaws" and n["3d_orphan_zombies_of_pid1"] == k and n["3d_own_zombies_of_server"] == k
    assert n["3d-sh_pid1"] == "sh" and n["3d-sh_orphan_zombies_of_pid1"] == 0
    assert n["3d-init_pid1"] == "docker-init" and n["3d-init_orphan_zombies_of_pid1"] == 0
    assert n["3d-init_own_zombies_of_server"] == k, "an init cannot reap another process's children"
    assert n["3g_orphans_adopted"] == k and n["3g_orphan_zombies_anywhere"] == n["3g_own_zombies_of_server"] == 0


def check_pid1_signals(n):
    timeout = 3  # the scenario's docker stop grace period
    assert n["timeout_s"] == timeout
    assert n["no-handler_exit"] == n["handler-sh_exit"] == 137
    assert n["no-handler_stop_s"] >= timeout and n["handler-sh_stop_s"] >= timeout
    assert (n["no-handler-init_exit"], n["handler_exit"]) == (143, 0)
    assert n["no-handler-init_stop_s"] < timeout and n["handler_stop_s"] < timeout


def check_pids_cgroup(n):
    # The scenario: nproc 100 and pids_limit 200 for both trials. Root passes nproc and fills the cgroup
    # (to within a tenth: the host reads it every 50 ms); the run's own UID stops at 100, the cgroup half full.
    assert (n["nproc"], n["pids_limit"]) == (100, 200)
    assert n["root_uid"] == 0 and n["user_uid"] != 0
    assert n["root_pids_limit_read"] == 200 and n["user_pids_limit_read"] == 200
    # fork() never passes pids.max, but a process docker exec attaches may (the kernel's cgroup-v2 docs:
    # "attaching enough processes ... such that pids.current > pids.max"): the probes, a shell and its
    # one or two commands, counted while 3d fills the cgroup. 203 of 200 seen on CI.
    probes = 10
    assert 100 < n["root_processes_at_death"] <= 200 and 180 <= n["root_pids_peak"] <= 200 + probes
    assert n["user_processes_at_death"] <= 100 and n["user_pids_peak"] <= 150
    for who in ("root", "user"):
        assert "[Errno 11] Resource temporarily unavailable" in n[f"{who}_error"]


def check_nproc_shared_uid(n):
    assert n["shared_uid"] == n["shared_neighbour_uid"] and n["own_uid"] != n["own_neighbour_uid"]
    # nproc 60: the neighbour leaves 58 zombies, two slots short of it; then 5 curls.
    assert (n["nproc"], n["zombies"], n["curls"]) == (60, 58, 5)
    assert n["shared_neighbour_zombies"] == 58 and n["own_neighbour_zombies"] == 58
    assert n["shared_forks_failed"] > 0 and n["shared_answered"] < 5
    assert n["own_forks_failed"] == 0 and n["own_answered"] == 5


CHECKS = {name: globals()[f"check_{name.replace('-', '_')}"] for name in catalog.names()}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", catalog.names())
def test_scenario_reproduces(run_cli, tmp_path, name):
    result, report = run_scenario(run_cli, tmp_path, name)
    assert report["verdict"]["word"] == "REPRODUCED", report["verdict"]["observed"]
    assert result.returncode == 0
    assert f"{name}: REPRODUCED" in result.stdout
    CHECKS[name](report["verdict"]["numbers"])
    for runs in report["observations"].values():
        for record in runs:  # the limits the scenario states are the ones the server ran under
            in_force = record["baseline"]["limits"]
            assert in_force["Max open files"] == [str(record["limits"]["nofile"])] * 2
            assert in_force["Max processes"] == [str(record["limits"]["nproc"])] * 2
            # Only nproc-shared-uid runs a neighbour, under the same nproc as its server.
            assert bool(record["neighbour"]) == (name == "nproc-shared-uid")
            if name == "nproc-shared-uid":
                assert record["neighbour"]["baseline"]["limits"]["Max processes"] == in_force["Max processes"]
    # Every container of the run locked down, with exactly the capabilities the catalog grants.
    check_run_confined(report, catalog.get(name))
    assert (tmp_path / name / "timeline.png").stat().st_size > 10_000
    assert (tmp_path / name / "report.md").read_text().startswith(f"# {name}: REPRODUCED")
    # The page that opens anywhere, named on the console.
    assert f"page       {tmp_path / name / 'report.html'}" in result.stdout
    assert ">REPRODUCED (" in (tmp_path / name / "report.html").read_text()


@pytest.mark.timeout(120)
def test_two_runs_at_once_do_not_collide(run_cli, tmp_path):
    results = {}

    def run(slot):
        results[slot] = run_scenario(run_cli, tmp_path / slot, "zombies")

    threads = [threading.Thread(target=run, args=(slot,)) for slot in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = {slot: report["run_id"] for slot, (_, report) in results.items()}
    assert ids["a"] != ids["b"]
    for result, report in results.values():
        assert result.returncode == 0, report["verdict"]["observed"]


def start_a_long_run(run_cli, tmp_path, *extra, env=None):
    """`lbaws scenario iterative-blocking` unscaled (3b sleeps 60 s), once its curls are under way."""
    process = subprocess.Popen([*run_cli.command, "iterative-blocking", "--reports", str(tmp_path), *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    run_id, deadline = None, time.monotonic() + 60
    for line in process.stdout:
        match = RUN.search(line)
        run_id = run_id or (match.group(1) if match else None)
        if "x curl" in line or time.monotonic() > deadline:
            break
    if not (run_id and leftovers(run_id)):
        process.kill()
        pytest.fail("the run never got its containers up")
    return process, run_id


@pytest.mark.timeout(120)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_removes_its_containers(run_cli, tmp_path, signum):
    process, run_id = start_a_long_run(run_cli, tmp_path)
    try:
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert "interrupted" in err
    assert leftovers(run_id) == []


@pytest.mark.timeout(120)
def test_interrupted_run_with_keep_keeps_its_containers_and_says_so(run_cli, tmp_path):
    process, run_id = start_a_long_run(run_cli, tmp_path, "--keep")
    try:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 130
        (line,) = err.strip().splitlines()
        assert line.startswith(f"lbaws scenario: interrupted; --keep kept run {run_id}'s containers and network")
        assert "were removed" not in line
        assert leftovers(run_id), "--keep kept nothing"
        subprocess.run(line.split("remove them with: ", 1)[1], shell=True, check=True, timeout=60)
        assert leftovers(run_id) == []
    finally:
        if process.poll() is None:
            process.kill()
        subprocess.run(removal_command(run_id), shell=True, capture_output=True, timeout=60)


@pytest.mark.timeout(120)
def test_keep_leaves_containers_and_says_how_to_look_and_remove(run_cli, tmp_path):
    result = run_cli("hello", "--keep", "--reports", str(tmp_path), timeout=120)
    run_id = json.loads((tmp_path / "hello" / "report.json").read_text())["run_id"]
    try:
        assert result.returncode == 0
        assert leftovers(run_id)
        commands = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("docker ")]
        ps = next(c for c in commands if " ps -eo " in c and c.startswith("docker exec"))
        listing = subprocess.run(ps.split("#")[0].split(), capture_output=True, text=True, timeout=30)
        assert "lbaws" in listing.stdout
        fds = next(c for c in commands if "/fd" in c)
        listing = subprocess.run(fds.split("#")[0].split(), capture_output=True, text=True, timeout=30)
        assert "socket:[" in listing.stdout, listing.stderr
        remove = commands[-1]
        subprocess.run(remove, shell=True, check=True, timeout=60)
        assert leftovers(run_id) == []
    finally:
        subprocess.run(removal_command(run_id), shell=True, capture_output=True, timeout=60)


@pytest.mark.timeout(300)
def test_fd_exhaustion_with_the_repositorys_client_counts_what_reached_accept(run_cli, tmp_path):
    # Whether 3d dies depends on how many handshakes its backlog of 5 drops: judge the counts, not the verdict.
    result, report = run_scenario(run_cli, tmp_path, "fd-exhaustion", "--client", "repository")
    # Either verdict, but a verdict: the status says which (an ERROR or a crash is a failure here).
    word = report["verdict"]["word"]
    assert (word, result.returncode) in {("REPRODUCED", 0), ("NOT REPRODUCED", 1)}, result.stderr
    n = report["verdict"]["numbers"]
    assert n["client"] == "repository"
    # The load stops a second after 3d dies: the clients not yet started by then never try.
    assert n["clients"] == 300 and 0 < n["accepted"] <= n["attempted"] <= 300
    if n["attempted"] < 300:
        assert "Too many open files" in n["error"], n
    if n["reached_accept"] is None:
        # 3d did not live to its final snapshot: it died of the text's EMFILE.
        assert "Too many open files" in n["error"], n
    else:  # it lived: what it kept reached accept(), and only the rest was dropped
        assert n["accepted"] <= n["reached_accept"] <= 300
        assert n["listen_overflows"] <= n["listen_drops"]
    # 3g's backlog of 1024 holds all 300: nothing overflows, and every connection reaches accept()
    # (the one curl after the load may count too).
    assert n["3g_listen_overflows"] == 0
    assert 300 <= n["3g_reached_accept"] <= 301
    for runs in report["observations"].values():
        for record in runs:
            assert "--pattern repository" in record["results"]["load"]["command"]
            assert record["results"]["load"]["pattern"] == "repository"
