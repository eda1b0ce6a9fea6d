"""The `lbaws` command line: stages listing, one-line errors with distinct exit codes, scenario pass-through."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from srvproc import APPS, ROOT, run_lbaws
from srvnet import children, get, wait_until

# A hung server must fail its test, not stall the whole run.
pytestmark = pytest.mark.timeout(90)

STAGE_FILES = ["webserver1.py", "webserver2.py"] + [f"webserver3{c}.py" for c in "abcdefgh"]


def test_stages_lists_every_stage_with_its_tutorial_file():
    result = run_lbaws("stages")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(STAGE_FILES)
    for line, filename in zip(lines, STAGE_FILES):
        name = filename[len("webserver"):-len(".py")]
        assert line.split()[:2] == [name, filename]
        assert len(line.split()) > 4, "each stage has a one-line description"


def test_console_script_is_installed_and_agrees_with_python_m():
    script = Path(sys.executable).parent / "lbaws"
    result = subprocess.run([str(script), "stages"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert result.stdout == run_lbaws("stages").stdout


def _one_line(stderr):
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_bad_stage_is_one_line_listing_the_valid_stages():
    result = run_lbaws("serve", "3z", "--port", "0")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert line == "lbaws: unknown stage '3z'; valid stages: 1, 2, 3a, 3b, 3c, 3d, 3e, 3f, 3g, 3h"


def test_app_that_cannot_be_imported_exits_3_with_one_line():
    result = run_lbaws("serve", "2", "nosuch:app", "--port", "0")
    assert result.returncode == 3
    assert _one_line(result.stderr) == "lbaws: cannot import 'nosuch:app': No module named 'nosuch'"


def test_missing_callable_and_bad_spec_exit_3_with_one_line():
    result = run_lbaws("serve", "3h", "wsgiapp:nope", "--port", "0")
    assert result.returncode == 3
    assert _one_line(result.stderr) == \
        "lbaws: cannot import 'wsgiapp:nope': module 'wsgiapp' has no attribute 'nope'"
    result = run_lbaws("serve", "2", "wsgiapp", "--port", "0")
    assert result.returncode == 3
    assert "is not MODULE:CALLABLE" in _one_line(result.stderr)


def test_wsgi_stages_require_an_app_and_part_one_takes_none():
    for stage in ("2", "3h", "webserver2"):
        result = run_lbaws("serve", stage, "--port", "0")
        assert result.returncode == 2
        assert "needs a WSGI application as MODULE:CALLABLE" in _one_line(result.stderr)
    result = run_lbaws("serve", "1", "wsgiapp:app", "--port", "0")
    assert result.returncode == 2
    assert "takes no app" in _one_line(result.stderr)


def test_port_in_use_exits_4_with_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_lbaws("serve", "3a", "--host", "127.0.0.1", "--port", str(port))
    assert result.returncode == 4
    assert _one_line(result.stderr) == f"lbaws: port {port} is already in use (127.0.0.1:{port})"


def test_tutorial_file_names_are_aliases(serve):
    server = serve("webserver3a.py", "wsgiapp:app")
    status, _, body = get(server.port)
    assert (status, body) == (200, b"Hello world from a simple WSGI application!\n")


def test_console_script_imports_the_app_from_the_current_directory(tmp_path):
    # The text runs `python webserver2.py flaskapp:app` from the apps directory; so does `lbaws serve`.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = Path(sys.executable).parent / "lbaws"
    proc = subprocess.Popen([str(script), "serve", "2", "wsgiapp:app", "--host", "127.0.0.1",
                             "--port", str(port), "--quiet"],
                            cwd=APPS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert wait_until(lambda: _connects(port), deadline=15), "server never accepted a connection"
        status, _, body = get(port)
        assert (status, body) == (200, b"Hello world from a simple WSGI application!\n")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    # --quiet: nothing of the text's story, not even the listening line; SIGTERM ends it cleanly.
    assert proc.returncode == 0
    assert out == b"" and err == b""


def _connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_scenario_passes_its_arguments_through_and_returns_the_exit_code(tmp_path):
    fake = tmp_path / "fake_scenarios"
    (fake / "scenarios").mkdir(parents=True)
    (fake / "scenarios" / "__init__.py").write_text("")
    (fake / "scenarios" / "cli.py").write_text(
        "import sys\n"
        "def main(argv):\n"
        "    print('got', argv)\n"
        "    return 7\n"
    )
    env = {"PYTHONPATH": f"{fake}{os.pathsep}{ROOT / 'server'}"}
    code = ("import sys; sys.path.insert(0, sys.argv.pop(1)); from lbaws.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, str(fake), "scenario", "fd-exhaustion", "--all"],
                            capture_output=True, text=True, env=dict(os.environ, **env), timeout=30)
    assert result.returncode == 7, result.stderr
    assert result.stdout == "got ['fd-exhaustion', '--all']\n"


def test_scenario_without_the_runner_is_one_line_and_exit_2():
    # A None entry in sys.modules makes the import fail, whatever scenarios/ holds right now.
    code = ("import sys; sys.modules['scenarios.cli'] = None; from lbaws.cli import main; "
            "sys.exit(main(['scenario', 'x']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert _one_line(result.stderr).startswith("lbaws: scenarios are not available:")


def test_sigterm_stops_a_sleeping_iterative_server_at_once(serve):
    server = serve("3b", "--sleep", "30")
    with socket.create_connection(("127.0.0.1", server.port)) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"Hello, World!" in client.recv(4096)
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert server.wait_exit(5) == 0
        assert time.monotonic() - started < 2
    assert "Shutting down (signal 15)" in server.log()


def test_sigterm_stops_a_forking_server_and_its_children_die_by_default(serve):
    server = serve("3c", "--sleep", "30")
    with socket.create_connection(("127.0.0.1", server.port)) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"Hello, World!" in client.recv(4096)
        kids = children(server.pid)
        assert len(kids) == 1
        server.proc.send_signal(signal.SIGTERM)
        assert server.wait_exit(5) == 0
        # The child restored the default SIGTERM: the signal kills it instead of raising in its sleep.
        os.kill(kids[0][0], signal.SIGTERM)
        assert wait_until(lambda: not os.path.exists(f"/proc/{kids[0][0]}") or
                          open(f"/proc/{kids[0][0]}/stat").read().rpartition(")")[2].split()[0] == "Z", 5)


@pytest.mark.parametrize("option,value", [("--port", "70000"), ("--port", "-1"), ("--sleep", "nan"),
                                          ("--sleep", "inf"), ("--timeout", "inf")])
def test_out_of_range_numbers_are_usage_errors_not_tracebacks(option, value):
    result = run_lbaws("serve", "3a", "--port", "0", option, value, timeout=10)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"lbaws serve: error: argument {option}: {value}")
