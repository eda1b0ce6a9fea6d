"""The workbench (`docker compose run --rm workbench`): docs/workbench.md's section "The text's commands, by
hand" run as written, each ```sh block in a fresh workbench, against learner-style server files."""
import json
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lab import inventory
from lab.compose import ComposeProject
from lab.paths import ROOT
from labhelp import project_env

HEADING = "## The text's commands, by hand"
HERE = Path(__file__).resolve().parent
# The learner-style files tests/check judges too: the reader's folder of the workbench.
READER_FILES = HERE.parent / "servers"
SERVICE = "workbench"
# The text's commands that the section must keep, as the text types them.
THE_TEXTS = ["ulimit -n 256", "python webserver3d.py &", "python client3.py --max-clients=300",
             "curl http://localhost:8888/hello", "ps auxw | grep -i Z", "ulimit -u 400", "kill -9 PID"]
# 256 minus stdin, stdout, stderr and the listening socket.
MOST_ACCEPTED = 252


def section(path):
    """The text of the section under HEADING in a markdown file (up to the next `## `), else None."""
    if not path.is_file():
        return None
    lines = path.read_text().splitlines()
    if HEADING not in lines:
        return None
    start = lines.index(HEADING) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start:end])


PAGE = ROOT / "docs" / "workbench.md"


def commands_text(page=PAGE):
    """The workbench page's section: the commands a reader types are the ones this file runs."""
    return section(page)


def sessions(text):
    """Each ```sh block of the section: one terminal window, as a list of the lines typed in it."""
    return [block.splitlines() for block in re.findall(r"^```sh\n(.*?)^```$", text, re.M | re.S)]


# --- What the test does in the reader's place, and only that -------------------------------------
# The reader waits for "Serving HTTP" before typing on; the script waits for the port.
WAIT_FOR_SERVER = ("for _ in $(seq 200); do ss -Hltn 'sport = :8888' | grep -q LISTEN && break; "
                   "sleep 0.05; done")
# curl on 3d never ends (no FIN): the reader's Ctrl-C, after 3 s. Where the block's curl gets an answer (Flask's
# hello), the reader waits for it: as long as a busy machine takes, 30 s at most.
CTRL_C_FOR_CURL = 'curl() {{ command curl --max-time {seconds} "$@"; }}'
ANSWERED = {"flask"}
# "kill -9 PID": the PID the reader reads off a <defunct> line.
ZOMBIE_PID = ("pid=$(ps -eo pid=,stat= | awk '$2 ~ /^Z/ {print $1; exit}'); "
              'echo "stand-in: PID is $pid"')


def as_script(lines, curl_seconds=3):
    script = [CTRL_C_FOR_CURL.format(seconds=curl_seconds)]
    for line in lines:
        if re.match(r"\s*kill\b", line) and re.search(r"\bPID\b", line):
            script += [ZOMBIE_PID, re.sub(r"\bPID\b", "$pid", line)]
            continue
        script.append(line)
        if line.split("#")[0].rstrip().endswith("&"):
            script.append(WAIT_FOR_SERVER)
    return "\n".join(script) + "\n"


# --- What the reader should see, per block (found by a line only that block has) -----------------
def last_number_before(output, marker):
    head = output[:output.index(marker)]
    return int([line for line in head.splitlines() if line.strip().isdigit()][-1])


# What each child of 3d prints: the request it read. Under PYTHONUNBUFFERED, as on a reader's terminal,
# the children still serving write it between the pieces the dying parent writes one by one (a count and
# its newline; a traceback's "OSError", ": " and message), so it is taken out before reading the parent.
CHILD_PRINTS = "GET /hello HTTP/1.1\nHost: localhost:8888\n\n"
EMFILE = re.compile(r"OSError\n*: \n*\[Errno 24\] Too many open files")
EAGAIN = re.compile(r"BlockingIOError\n*: \n*\[Errno 11\] Resource temporarily unavailable")


def parents_output(output):
    return output.replace(CHILD_PRINTS, "")


def saw_emfile(output):
    output = parents_output(output)
    assert EMFILE.search(output), output[-3000:]
    traceback = output[output.index("Traceback"):]
    assert "in accept" in traceback.split("OSError")[0]
    accepted = last_number_before(output, "Traceback")
    assert 200 <= accepted <= MOST_ACCEPTED, f"3d accepted {accepted} connections before EMFILE"
    assert "client3: 300 clients, " in output


def saw_zombies(output):
    assert "Hello, World!" in output
    pid = re.search(r"^stand-in: PID is (\d+)$", output, re.M).group(1)
    defunct = [line for line in output.splitlines() if "<defunct>" in line]
    # The same zombie before and after kill -9.
    assert [line.split()[1] for line in defunct].count(pid) == 2, output


def saw_eagain(output):
    output = parents_output(output)
    assert EAGAIN.search(output), output[-3000:]
    traceback = output[output.index("Traceback"):]
    assert "os.fork()" in traceback.split("BlockingIOError")[0]
    assert "client3: " in output


def saw_flask(output):
    assert "Hello world from Flask!" in output, output[-3000:]


EXPECTED = {
    "fd-exhaustion": ("python client3.py --max-clients=300", saw_emfile),
    "zombies": ("ps auxw | grep -i Z", saw_zombies),
    "nproc-exhaustion": ("ulimit -u 400", saw_eagain),
    "flask": ("python webserver2.py flaskapp:app &", saw_flask),
}


def block_for(blocks, marker):
    found = [block for block in blocks if marker in (line.split("#")[0].strip() for line in block)]
    assert len(found) == 1, f"{len(found)} blocks of the section have the line {marker!r}"
    return found[0]


# --- Without Docker ------------------------------------------------------------------------------
def test_the_section_keeps_the_texts_commands_as_written():
    text = commands_text()
    assert text is not None, f"{PAGE.relative_to(ROOT)} has no {HEADING!r}"
    typed = {line.split("#")[0].strip() for block in sessions(text) for line in block}
    assert [command for command in THE_TEXTS if command not in typed] == []


def test_every_block_has_one_expectation_and_each_expectation_one_block():
    blocks = sessions(commands_text())
    markers = [marker for marker, _ in EXPECTED.values()]
    for block in blocks:
        assert sum(marker in (line.strip() for line in block) for marker in markers) == 1, block
    for marker in markers:
        block_for(blocks, marker)


def test_the_section_ends_at_the_next_heading_and_takes_only_sh_blocks(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# lab\n\n{HEADING}\n\n```sh\necho readme\n```\n\n```text\nout\n```\n\n"
                      f"## Next\n\n```sh\necho not this\n```\n")
    assert sessions(commands_text(readme)) == [["echo readme"]]
    readme.write_text("# lab\n\n## Set up\n")
    assert commands_text(readme) is None


def test_the_emfile_block_is_read_through_the_childrens_prints_between_the_parents_pieces():
    # As a CI run printed it: children's requests landed inside a count line and inside the traceback.
    child = CHILD_PRINTS + "\n"
    output = ("Serving HTTP on port 8888 ...\n251" + child + "\n252\n" + child + "Traceback (most recent call last):\n"
              '  File "/workbench/webserver3d.py", line 16, in main\n'
              '  File "/usr/lib/python3.11/socket.py", line 294, in accept\n'
              "OSError" + child + ": [Errno 24] Too many open files\n"
              "client3: 300 clients, 452 connections in 2.2 s (33 per client at most)\n")
    saw_emfile(output)
    with pytest.raises(AssertionError):
        saw_emfile(output.replace("[Errno 24]", "[Errno 23]"))
    with pytest.raises(AssertionError, match="accepted 190"):
        saw_emfile(output.replace("251", "189").replace("252", "190"))


def test_the_reader_stand_ins_touch_only_what_they_must():
    script = as_script(["ulimit -n 256", "python webserver3d.py &", "kill -9 PID  # the zombie"])
    assert script.splitlines() == [CTRL_C_FOR_CURL.format(seconds=3), "ulimit -n 256", "python webserver3d.py &",
                                   WAIT_FOR_SERVER, ZOMBIE_PID, "kill -9 $pid  # the zombie"]


@pytest.fixture(scope="module")
def workbench_config():
    project = ComposeProject("lbaws-test-config", project_env())
    config = project.run("--profile", "workbench", "config", "--format", "json", timeout=60).stdout
    return json.loads(config)["services"][SERVICE]


def test_the_workbench_service_has_its_own_uid_limits_and_no_network(workbench_config):
    service = workbench_config
    assert service["image"] == inventory.WORKBENCH_IMAGE
    assert service["labels"][inventory.PROJECT_LABEL] == inventory.PROJECT
    assert service["user"] == str(inventory.WORKBENCH_UID)
    assert inventory.WORKBENCH_UID not in (inventory.SERVER_UID, inventory.CLIENT_UID, 0)
    assert service["working_dir"] == inventory.WORKBENCH_DIR
    assert service["network_mode"] == "none"
    assert service["ulimits"] == {"nofile": {"soft": 1024, "hard": 1024}, "nproc": {"soft": 1024, "hard": 1024}}
    assert service["pids_limit"] > 1024 and int(service["mem_limit"]) == 1 << 30
    (volume,) = service["volumes"]
    assert (volume["source"], volume["target"]) == (str(ROOT / "workbench"), inventory.WORKBENCH_MOUNT)
    # A mistyped LBAWS_WORKBENCH is an error, not an empty root-owned folder made on the host.
    assert volume["read_only"] is True and not volume.get("bind", {}).get("create_host_path")


# client3.py on the host, pointed at a loopback port of the test's own (never 8888: someone's lab may
# publish it), with its bounds made small so they show in a second.
CLIENT3 = ROOT / "images" / "workbench" / "client3.py"


def client3(port, *args, total=None, time_limit=None):
    settings = f"client3.SERVER = ('127.0.0.1', {port})\n"
    settings += f"client3.MAX_TOTAL = {total}\n" if total else ""
    settings += f"client3.TIME_LIMIT = {time_limit}\n" if time_limit else ""
    program = (f"import sys\nsys.path.insert(0, {str(CLIENT3.parent)!r})\nimport client3\n{settings}"
               f"sys.exit(client3.main({list(args)!r}))\n")
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=30)


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock
    finally:
        sock.close()


def test_client3_opens_its_connections_and_sends_the_texts_request(listener):
    listener.listen(64)
    requests = []

    def serve():
        # Every connection kept open, as a held client expects.
        kept = []
        listener.settimeout(10)
        while len(kept) < 6:
            conn, _ = listener.accept()
            kept.append(conn)
            requests.append(conn.recv(1024))
    server = threading.Thread(target=serve)
    server.start()
    result = client3(listener.getsockname()[1], "--max-clients=3", "--max-conns=2")
    server.join(timeout=10)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("client3: 3 clients, 6 connections in ")
    assert requests == [b"GET /hello HTTP/1.1\r\nHost: localhost:8888\r\n\r\n"] * 6


def test_client3_splits_its_ceiling_between_clients(listener):
    listener.listen(64)
    result = client3(listener.getsockname()[1], "--max-clients=4", total=8)
    assert "client3: 4 clients, 8 connections in " in result.stdout
    assert "(2 per client at most)" in result.stdout


def test_a_client3_client_whose_connect_fails_stops(listener):
    port = listener.getsockname()[1]  # bound, not listening: refused
    result = client3(port, "--max-clients=3")
    assert result.stdout.splitlines()[1] == "client3: clients stopped early by: [Errno 111] Connection refused (3)"


def test_client3_kills_the_clients_still_running_at_its_time_limit(listener):
    listener.listen(0)  # never accepted: once the queue is full, connect() waits on SYN retries
    started = time.monotonic()
    result = client3(listener.getsockname()[1], "--max-clients=2", "--max-conns=50", time_limit=1)
    assert time.monotonic() - started < 10
    assert "client3: 2 clients still running at the 1 s limit were killed" in result.stdout


# --- In the workbench ----------------------------------------------------------------------------
class Workbench:
    """`docker compose run --rm workbench` under a project of its own, with a reader's folder."""

    def __init__(self, folder):
        self.folder = folder
        # A UID of its own per run, as the scenarios do: a reader's workbench open at the same time
        # (UID 18890) must not share this run's RLIMIT_NPROC budget, nor this run theirs.
        self.uid = 20000 + random.randrange(0, 40000)
        self.project = ComposeProject(f"lbaws-test-wb-{secrets.token_hex(4)}",
                                      project_env(LBAWS_WORKBENCH=folder, LBAWS_WORKBENCH_UID=self.uid))
        self.names = []

    def bash(self, script, timeout=90):
        """Run script in a fresh workbench; its output and the seconds it took."""
        # The script sits in the reader's folder, so `ps` shows `bash my/session.sh`, not its text;
        # both streams go to one pipe, in the order a terminal would show them.
        (self.folder / "session.sh").write_text("exec 2>&1\n" + script)
        (self.folder / "session.sh").chmod(0o644)
        name = f"{self.project.name}-{len(self.names)}"
        self.names.append(name)
        started = time.monotonic()
        result = self.project.run("run", "--rm", "-T", "--name", name, SERVICE, "bash", "my/session.sh",
                                  timeout=timeout, check=False)
        return result.stdout + result.stderr, time.monotonic() - started

    def remove(self):
        for name in self.names:
            subprocess.run(["docker", "rm", "--force", name], capture_output=True, timeout=60)
        self.project.run("--profile", "workbench", "down", "--volumes", "--remove-orphans", "--timeout", "2",
                         timeout=120, check=False)


@pytest.fixture(scope="module")
def workbench(lab_images, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reader")
    # World-readable, whatever UID the workbench runs as and whatever the checkout's modes.
    folder.chmod(0o755)
    for source in READER_FILES.glob("*.py"):
        shutil.copyfile(source, folder / source.name)
        (folder / source.name).chmod(0o644)
    bench = Workbench(folder)
    try:
        yield bench
    finally:
        bench.remove()


@pytest.mark.container
@pytest.mark.timeout(300)
def test_the_workbench_has_the_texts_tools(workbench):
    output, _ = workbench.bash(
        "id -u; ulimit -n; ulimit -u; pwd\n"
        "python --version; python3 --version; command -v ps curl kill\n"
        "python client3.py --help; client3.py --help | head -1\n"
        "python -c 'import flaskapp; print(flaskapp.app)'\n"
        "python -c 'import pyramid' 2>&1 | tail -1\n"
        "touch here 2>&1; touch my/here 2>&1\n")
    lines = output.splitlines()
    assert lines[:4] == [str(workbench.uid), "1024", "1024", inventory.WORKBENCH_DIR], output
    assert lines[4].startswith("Python 3.") and lines[4] == lines[5]
    assert "/usr/bin/curl" in lines and "/usr/bin/ps" in lines
    assert "--max-clients MAX_CLIENTS" in output and "10000 connections in all" in output
    assert "after 30 s" in output.replace("\n", " ")
    assert "usage: client3.py" in output.split("10000 connections in all")[1]
    assert "<bound method Flask.wsgi_app" in output
    assert "No module named 'pyramid'" in output
    # Nothing the reader does lands outside their folder (the root filesystem is read-only), and their
    # folder is read-only too.
    assert "touch: cannot touch 'here': Read-only file system" in output
    assert "touch: cannot touch 'my/here': Read-only file system" in output


# The blocks that flood 3d's backlog of 5 (300 clients), as the scenarios of the same names do: never beside
# a real bench run (tests/conftest.py).
FLOOD_BLOCKS = {"fd-exhaustion", "nproc-exhaustion"}


@pytest.mark.container
@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.flood) if name in FLOOD_BLOCKS else name
                                  for name in EXPECTED])
def test_the_sections_block_shows_what_the_section_says(workbench, name):
    marker, saw = EXPECTED[name]
    block = block_for(sessions(commands_text()), marker)
    output, seconds = workbench.bash(as_script(block, 30 if name in ANSWERED else 3))
    saw(output)
    # client3's own 30 s limit and curl's stand-in Ctrl-C bound every block.
    assert seconds < 40, f"{name} took {seconds:.0f} s"
