"""`lbaws bench`'s refusals: each one line and exit 2 (bad names) or 3 (no engine), nothing started."""
import os

import pytest

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


@pytest.mark.parametrize("args, line", [
    (["--server", "nginx"], "lbaws bench: unknown server 'nginx'; servers: lbaws-prefork, lbaws-3h, gunicorn-sync, "
                            "gunicorn-gthread, waitress, cheroot, granian, wsgiref"),
    (["--cpus", "0"], "lbaws bench: argument --cpus: '0' is not a list of CPU counts from 1 to 64, such as 1,2"),
    (["--cpus", "1,two"], "lbaws bench: argument --cpus: '1,two' is not a list of CPU counts from 1 to 64, such as 1,2"),
    (["--app", "django"], "lbaws bench: unknown app 'django'; apps: wsgi, flask"),
    (["--mode", "pipelined"], "lbaws bench: unknown mode 'pipelined'; modes: keep-alive, close"),
    (["--rounds", "2"], "lbaws bench: argument --rounds: '2' is not a whole number from 3 to 50"),
    (["--connections", "0"], "lbaws bench: argument --connections: '0' is not a whole number from 1 to 1000"),
    (["--duration", "forever"], "lbaws bench: argument --duration: 'forever' is not a whole number from 1 to 120"),
    (["gunicorn"], "lbaws bench: unrecognized arguments: gunicorn"),
])
def test_bad_input_is_one_line_and_exit_2(run_bench, args, line):
    result = run_bench(*args, env={**os.environ, **NO_ENGINE})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""


def test_without_an_engine_it_says_so_in_one_line_and_exits_3(run_bench, tmp_path):
    result = run_bench("--quick", "--reports", str(tmp_path / "out"), env={**os.environ, **NO_ENGINE}, timeout=120)
    assert result.returncode == 3
    [line] = result.stderr.splitlines()
    assert line.startswith("lbaws bench: the Docker engine does not answer")
    assert not (tmp_path / "out").exists()


def test_help_names_the_servers_and_apps(run_bench):
    result = run_bench("--help")
    assert result.returncode == 0
    assert ("lbaws-prefork, lbaws-3h, gunicorn-sync, gunicorn-gthread, waitress, cheroot, granian, wsgiref"
            in " ".join(result.stdout.split()))


def test_the_loopback_bench_imports_no_docker_sdk():
    # Host processes on 127.0.0.1 need no engine: the whole loopback path loads without the Docker SDK.
    import subprocess
    import sys

    code = ("import sys, commands.bench, bench.loopback, bench.run, bench.report; "
            "print(sorted(m for m in sys.modules if m == 'docker' or m.startswith('docker.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
