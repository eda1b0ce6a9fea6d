"""A runner killed with SIGKILL runs no cleanup: the next run removes what it left, by label, and says so;
the containers of a run still going are never touched."""
import dataclasses
import os
import secrets
import signal
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from lab.runs import Runner
from test_scenarios import leftovers, start_a_long_run


def test_this_runner_is_alive():
    assert not Runner.this().gone()
    assert Runner.parse(Runner.this().label) == Runner.this()


def test_a_runner_whose_process_ended_is_gone():
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                           text=True, check=True)
    assert dataclasses.replace(Runner.this(), pid=int(ended.stdout)).gone()


def test_a_reused_pid_is_not_the_runner_that_made_the_run():
    assert dataclasses.replace(Runner.this(), started="1").gone()


def test_an_earlier_boot_is_gone_and_another_host_is_never_judged():
    assert dataclasses.replace(Runner.this(), boot="an-earlier-boot").gone()
    assert not dataclasses.replace(Runner.this(), host="another-host", pid=1, started="0").gone()


@pytest.mark.parametrize("label", ["", "no-slashes", "host/boot/not-a-pid/1"])
def test_a_label_that_is_not_a_runner_is_left_alone(label):
    assert Runner.parse(label) is None


@pytest.mark.scenario
@pytest.mark.container
@pytest.mark.timeout(300)
def test_next_run_removes_a_killed_runners_containers_and_leaves_a_live_runs(run_cli, tmp_path):
    # A runner host of these three runs' own: the suite's runs on other workers take them for another
    # host's and leave the killed one for this test's next run to find.
    env = {**os.environ, "LBAWS_RUNNER_HOST": f"{socket.gethostname()}-leftovers-{secrets.token_hex(4)}"}
    with ThreadPoolExecutor(2) as pool:  # both at once: each takes a while to get its containers up
        (live, live_id), (killed, killed_id) = pool.map(
            lambda name: start_a_long_run(run_cli, tmp_path / name, env=env), ["live", "killed"])
    try:
        killed.send_signal(signal.SIGKILL)
        killed.communicate(timeout=30)
        assert killed.returncode == -signal.SIGKILL
        left = leftovers(killed_id)
        assert left, "SIGKILL left nothing behind to clean"

        result = run_cli("hello", "--reports", str(tmp_path / "next"), env=env, timeout=180)
        assert result.returncode == 0, result.stdout + result.stderr
        said = [line for line in result.stdout.splitlines() if f"removed what run {killed_id} left behind" in line]
        assert len(said) == 1, result.stdout
        assert f"PID {killed.pid} " in said[0] and all(name in said[0] for name in left)
        assert leftovers(killed_id) == []
        assert live_id not in result.stdout
        assert leftovers(live_id) and live.poll() is None, "a live run's containers were touched"
    finally:
        for process in (live, killed):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.communicate(timeout=60)
    assert leftovers(live_id) == []
