"""Reading the server's whole process tree and its SIGCHLD disposition from real ps and /proc output."""
import os
import signal
import subprocess
import time

from scenarios.vocabulary import tree
from scenarios.executor.probe import sigchld_disposition
from scenarios.judging.profile import describe_answer

# ps -eo pid=,ppid=,nlwp=,stat=,comm= of a container: the server (PID 1), two children, a grandchild,
# a zombie, and the probe's own sh and ps (exec'd: parent 0).
PS = """    1     0     1 Ss   python3
   17     1     1 S    python3
   18     1     1 Z    python3 <defunct>
   19    17     1 S    python3
   20     1     4 Sl   python3
   40     0     1 Rs   sh
   41    40     1 R    ps
"""


def test_the_tree_counts_every_process_below_pid_1_and_none_of_the_probes():
    counted = tree.parse(PS)
    assert counted == tree.TreeCount(processes=4, threads=7, zombies=1, deepest=3)


def test_an_init_as_pid_1_is_not_the_servers():
    counted = tree.parse("    1     0     1 Ss   docker-init\n    7     1     1 S    server\n")
    assert counted.processes == 1 and counted.deepest == 1


def test_the_tree_of_real_processes_read_from_this_machines_ps():
    # A child that forks a grandchild, under a parent standing in for PID 1: read with the same ps columns.
    child = subprocess.Popen(["sh", "-c", "sleep 5 & sleep 5; wait"])
    try:
        time.sleep(0.5)
        out = subprocess.run(["ps", "-eo", "pid=,ppid=,nlwp=,stat=,comm="], capture_output=True, text=True).stdout
        mine = os.getpid()
        rows = [line.split(None, 4) for line in out.splitlines()]
        below = [r for r in rows if int(r[1]) == child.pid]
        assert len(below) == 2, out
        # Renumber so our process plays PID 1: the tree holds it, its sh child and the two sleeps.
        renamed = "\n".join(" ".join(["1" if r[0] == str(mine) else r[0], "0" if r[0] == str(mine) else r[1],
                                      *r[2:]]) for r in rows)
        counted = tree.parse(renamed)
        assert counted.processes >= 4 and counted.deepest >= 3
    finally:
        child.kill()
        child.wait()


def test_sigchld_disposition_from_proc_status():
    with open(f"/proc/{os.getpid()}/status") as status:
        assert sigchld_disposition(status.read()) == "default"
    script = "import signal, sys; signal.signal(signal.SIGCHLD, signal.{}); print(open('/proc/self/status').read())"
    for handler, said in (("SIG_IGN", "ignored"), ("default_int_handler", "caught")):
        out = subprocess.run(["python3", "-c", script.format(handler)], capture_output=True, text=True).stdout
        assert sigchld_disposition(out) == said
    assert signal.SIGCHLD == 17


def test_what_an_answer_says_about_itself():
    assert describe_answer("HTTP/1.1 200 OK\r\n\r\nHello, World!\n") == \
        "HTTP/1.1 200 OK; no length: the body ends at close; closes after the response"
    assert describe_answer("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhi\n") == \
        "HTTP/1.1 200 OK; Content-Length; keep-alive offered"
    assert describe_answer("HTTP/1.0 200 OK\nConnection: close\n\nhi") == "HTTP/1.0 200 OK; no length: the body ends at close; Connection: close"
    assert describe_answer("Hello") == "no status line: its first line is 'Hello'"
