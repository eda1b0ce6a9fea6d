"""The `lbaws` command line: stages listing, one-line errors with distinct exit codes, plugged commands."""

import ast
import contextlib
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
    assert len(lines) == len(STAGE_FILES) + 1
    for line, filename in zip(lines, STAGE_FILES):
        name = filename[len("webserver"):-len(".py")]
        assert line.split()[:2] == [name, filename]
        assert len(line.split()) > 4, "each stage has a one-line description"
    # The stage beyond the text has no file of the text.
    assert lines[-1].split()[:3] == ["prefork", "(beyond", "text)"] and lines[-1].endswith(" APP")


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
    assert line == "lbaws: unknown stage '3z'; valid stages: 1, 2, 3a, 3b, 3c, 3d, 3e, 3f, 3g, 3h, prefork"


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


PLUGIN = (
    "import sys\n"
    "def main(argv):\n"
    "    print('plug-in got', argv)\n"
    "    print('plug-in says hi on stderr', file=sys.stderr)\n"
    "    return 5\n"
)


def _fake_harness(where, commands, modules):
    """An installed distribution in `where` adding `commands` to lbaws; the env that puts it on the path."""
    dist = where / "fake_harness-0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-harness\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(
        "[lbaws.commands]\n" + "".join(f"{name} = {target}\n" for name, target in commands.items()))
    for name, source in modules.items():
        (where / f"{name}.py").write_text(source)
    return {"PYTHONPATH": f"{where}{os.pathsep}{ROOT / 'server'}"}


def test_a_command_registered_by_an_entry_point_is_found_and_run(tmp_path):
    env = _fake_harness(tmp_path, {"hello-plugin": "hello_plugin:main", "stages": "hello_plugin:main"},
                        {"hello_plugin": PLUGIN})
    result = run_lbaws("hello-plugin", "a", "b", env=env)
    assert (result.returncode, result.stdout, result.stderr) == \
        (5, "plug-in got ['a', 'b']\n", "plug-in says hi on stderr\n")
    assert "hello-plugin" in run_lbaws("--help", env=env).stdout
    # A plug-in cannot take over one of the server's own commands.
    assert run_lbaws("stages", env=env).stdout == run_lbaws("stages").stdout


def test_a_plug_in_that_cannot_be_loaded_is_one_line_and_exit_2(tmp_path):
    env = _fake_harness(tmp_path, {"broken": "broken_plugin:main", "hollow": "hello_plugin:nope"},
                        {"broken_plugin": "import lbaws_test_no_such_dependency\n", "hello_plugin": PLUGIN})
    result = run_lbaws("broken", "x", env=env)
    assert result.returncode == 2
    assert _one_line(result.stderr) == ("lbaws: `lbaws broken` is installed but cannot be loaded: "
                                        "No module named 'lbaws_test_no_such_dependency'")
    result = run_lbaws("hollow", env=env)
    assert result.returncode == 2
    assert _one_line(result.stderr) == ("lbaws: `lbaws hollow` is installed but cannot be loaded: "
                                        "module 'hello_plugin' has no attribute 'nope'")


# Python with only server/ (the current directory, for -m) and the standard library on its path:
# no site-packages (-S), no PYTHONPATH (-E), no user site (-s), as where lbaws is installed alone.
ISOLATED = [sys.executable, "-S", "-E", "-s"]
PROBE = ("import importlib.util, lbaws; from lbaws import cli; "
         "print(sorted(cli.plugged_commands()), importlib.util.find_spec('scenarios') is not None, lbaws.__file__)")


def test_scenario_without_the_harness_is_one_line_and_exit_2():
    server = ROOT / "server"
    installed = subprocess.run([sys.executable, "-c", PROBE], cwd=server, capture_output=True, text=True,
                               timeout=30)
    assert "'scenario'" in installed.stdout and " True " in installed.stdout, "the test venv has lbaws-lab installed"
    alone = subprocess.run([*ISOLATED, "-c", PROBE], cwd=server, capture_output=True, text=True, timeout=30)
    assert alone.stdout == f"[] False {server / 'lbaws' / '__init__.py'}\n", alone.stderr

    for command in ("scenario", "check", "doctor", "load", "bench"):
        result = subprocess.run([*ISOLATED, "-m", "lbaws", command, "x"], cwd=server,
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 2
        assert result.stdout == ""
        assert _one_line(result.stderr).startswith(f"lbaws: `lbaws {command}` comes with the lab harness")


HARNESS = {"lab", "scenarios"}


def _server_modules():
    package = ROOT / "server" / "lbaws"
    files = sorted(package.rglob("*.py"))
    assert package / "cli.py" in files and package / "client" / "command.py" in files
    return files


def test_the_server_package_never_imports_the_harness():
    offenders = []
    for path in _server_modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
                          for name in names if name.split(".")[0] in HARNESS]
    assert offenders == []


def test_the_server_package_parses_as_python_3_9():
    # The images and requires-python promise 3.9: no match statement and no other newer grammar.
    for path in _server_modules():
        ast.parse(path.read_text(), str(path), feature_version=(3, 9))


@pytest.mark.parametrize("stage", ["1", "3b", "webserver3d"])
def test_python2_signals_is_refused_where_no_sigchld_handler_can_interrupt_accept(stage):
    result = run_lbaws("serve", stage, "--port", "0", "--python2-signals", timeout=10)
    assert result.returncode == 2
    name = stage[len("webserver"):] if stage.startswith("webserver") else stage
    assert _one_line(result.stderr) == ("lbaws: --python2-signals changes only stages whose SIGCHLD handler "
                                        f"can interrupt accept() (3e, 3f, 3g, 3h); stage {name} has none")


@pytest.mark.parametrize("args", [("3e",), ("3f",), ("3g",), ("3h", "wsgiapp:app")])
def test_python2_signals_is_accepted_where_a_sigchld_handler_runs(serve, args):
    server = serve(*args, "--python2-signals")
    assert server.alive()
    assert "--python2-signals" not in server.log()


def test_sigterm_stops_a_sleeping_iterative_server_at_once(serve):
    server = serve("3b", "--sleep", "30")
    with socket.create_connection(("127.0.0.1", server.port)) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"Hello, World!" in client.recv(4096)
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert server.wait_exit(15) == 0
        # At once (measured under 0.1 s), not after the 30 s sleep.
        assert time.monotonic() - started < 10
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


def test_no_sigterm_handler_leaves_sigterm_its_default_action_as_the_texts_files(serve):
    # Not PID 1 here, so the default action applies: the process dies of the signal, with no clean-up.
    server = serve("3g", "--no-sigterm-handler")
    assert server.alive()
    server.proc.send_signal(signal.SIGTERM)
    assert server.wait_exit(5) == -signal.SIGTERM
    assert "Shutting down" not in server.log()
    # SIGINT still ends it as Ctrl-C does.
    server = serve("3g", "--no-sigterm-handler")
    server.proc.send_signal(signal.SIGINT)
    assert server.wait_exit(5) == 0 and "Shutting down (signal 2)" in server.log()


@pytest.mark.parametrize("option,value", [("--port", "70000"), ("--port", "-1"), ("--sleep", "nan"),
                                          ("--sleep", "inf"), ("--timeout", "inf")])
def test_out_of_range_numbers_are_usage_errors_not_tracebacks(option, value):
    result = run_lbaws("serve", "3a", "--port", "0", option, value, timeout=10)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"lbaws serve: error: argument {option}: {value}")


ALL_BUT_PREFORK = "1, 2, 3a, 3b, 3c, 3d, 3e, 3f, 3g, 3h"


@pytest.mark.parametrize("args,line", [
    (("prefork", "wsgiapp:app", "--sleep", "1"),
     "--sleep is for a stage that sleeps after each response (" + ALL_BUT_PREFORK + "); "
     "stage prefork has no such sleep"),
    # Even 0, which would change nothing: the option says the stage sleeps.
    (("prefork", "wsgiapp:app", "--sleep", "0"),
     "--sleep is for a stage that sleeps after each response (" + ALL_BUT_PREFORK + "); "
     "stage prefork has no such sleep"),
    (("prefork", "wsgiapp:app", "--no-sigterm-handler"),
     "--no-sigterm-handler is for a stage that can leave SIGTERM its default action (" + ALL_BUT_PREFORK + "); "
     "stage prefork stops through a SIGTERM handler of its own"),
    (("3a", "--drain", "1"),
     "--drain is for a stage that lets its responses in flight finish on SIGTERM (3g, 3h, prefork); "
     "stage 3a stops at once"),
    (("webserver3f", "--drain", "0"),
     "--drain is for a stage that lets its responses in flight finish on SIGTERM (3g, 3h, prefork); "
     "stage 3f stops at once"),
    (("3b", "--workers", "2"), "--workers is for a pre-forked stage (prefork); stage 3b has no workers"),
    (("prefork", "wsgiapp:app", "--python2-signals"),
     "--python2-signals changes only stages whose SIGCHLD handler can interrupt accept() (3e, 3f, 3g, 3h); "
     "stage prefork has none"),
])
def test_an_option_the_stage_does_not_read_is_one_line_and_exit_2(args, line):
    result = run_lbaws("serve", *args, "--host", "127.0.0.1", "--port", "0", timeout=10)
    assert (result.returncode, result.stdout) == (2, "")
    assert _one_line(result.stderr) == "lbaws: " + line


@pytest.mark.parametrize("args", [("3b", "--sleep", "0"), ("3c", "--sleep", "0.5"), ("3g", "--drain", "1"),
                                  ("prefork", "wsgiapp:app", "--drain", "1", "--workers", "1"),
                                  ("3e", "--no-sigterm-handler")])
def test_the_same_options_are_accepted_where_the_stage_reads_them(serve, args):
    server = serve(*args)
    assert server.alive()
    assert "lbaws:" not in server.log()


@contextlib.contextmanager
def sigint_ignored():
    """What a script's `lbaws serve ... &` (or `setsid make test < /dev/null &`) hands its children."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("stage,app,code", [("1", None, 0), ("3a", None, 0), ("3d", None, 0),
                                            ("3g", None, 0), ("prefork", "wsgiapp:app", 0)])
def test_sigint_stops_a_server_started_with_sigint_ignored(serve, stage, app, code):
    # Every stage sets its own SIGINT handler (lbaws.unix.install_shutdown_handlers), so a server started
    # in the background still stops on `kill -INT`, as one in the foreground stops on Ctrl-C.
    with sigint_ignored():
        server = serve(stage, *([app] if app else []))
    assert _sigint_disposition(server.pid) == "caught"
    server.proc.send_signal(signal.SIGINT)
    assert server.wait_exit(10) == code, server.log()


def _sigint_disposition(pid):
    """'ignored', 'caught' or 'default', as /proc/PID/status's signal masks say for SIGINT."""
    fields = dict(line.split(":\t", 1) for line in open(f"/proc/{pid}/status").read().splitlines() if ":\t" in line)
    bit = 1 << (signal.SIGINT - 1)
    if int(fields["SigIgn"], 16) & bit:
        return "ignored"
    return "caught" if int(fields["SigCgt"], 16) & bit else "default"
