"""The sampler's stream: its shell loop, run here on the host against a real process and its children."""
import os
import subprocess
import sys
import time

from scenarios.executor.probe import Probe, stream_command
from scenarios.executor.sampler import Sampler

# A parent that opens 5 more descriptors, forks 3 children, reaps none of them until told (SIGTERM ends all).
PARENT = """
import os, signal, sys, time
held = [os.open(os.devnull, os.O_RDONLY) for _ in range(5)]
for _ in range(3):
    if os.fork() == 0:
        os._exit(0)
print("ready", flush=True)
time.sleep(30)
"""


class HostProbe(Probe):
    """The probe's loop, run by sh on this host instead of in a container (the same /proc, read the same way)."""

    def __init__(self, env=None):
        self.kernel_count = False
        self.env = env

    def stream(self, server_pid, period, count):
        return subprocess.Popen(stream_command(self.stream_loop(server_pid, period, count)), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True, env=self.env)


def shell_of_stream(probe, parent_pid) -> str:
    """The command name of the process running a stream's loop (its first line gives the loop's PID)."""
    stream = probe.stream(parent_pid, 0.05, 3)
    try:
        loop_pid = int(stream.stdout.readline().split()[-1])
        with open(f"/proc/{loop_pid}/comm") as comm:
            return comm.read().strip()
    finally:
        stream.kill()
        stream.wait()


def test_the_stream_counts_a_real_servers_descriptors_and_zombies_then_sees_it_gone():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline() == "ready\n"
        sampler = Sampler(HostProbe(), parent.pid, time.monotonic(), period=0.05, bound=20).start()
        first = sampler.next(timeout=5)
        assert first.alive and first.zombies == 3 and first.live == 0
        assert sorted(first.zombie_pids) == first.zombie_pids and len(first.zombie_pids) == 3
        assert first.fds == len(os.listdir(f"/proc/{parent.pid}/fd"))
        assert first.fds >= 5 + 3  # stdin, stdout, stderr and the five it opened
        parent.kill()
        parent.wait()
        sampler.thread.join(timeout=5)
        assert not sampler.thread.is_alive()  # the stream saw the server gone and sampling ended
        samples = sampler.stop()
        assert samples[-1].alive is False and samples[0].alive
        assert not sampler.fault
    finally:
        parent.kill()
        parent.wait()


def test_the_streams_loop_runs_in_bash_where_there_is_one_and_in_sh_where_not(tmp_path):
    # dash's `read` takes one byte per system call: with a flood's hundreds of processes the loop cost a
    # tenth of a CPU second per sample, so the loop prefers bash, and still runs where only sh is.
    assert shell_of_stream(HostProbe(), os.getpid()) == "bash"
    no_bash = tmp_path / "bin"
    no_bash.mkdir()
    for tool in ("sh", "sleep"):
        (no_bash / tool).symlink_to(subprocess.check_output(["sh", "-c", f"command -v {tool}"], text=True).strip())
    without_bash = HostProbe(env={"PATH": str(no_bash)})
    assert shell_of_stream(without_bash, os.getpid()) in ("sh", "dash")
    sampler = Sampler(without_bash, os.getpid(), time.monotonic(), period=0.05, bound=5).start()
    try:
        assert sampler.next(timeout=5).alive  # read in sh, the samples are the same
    finally:
        sampler.stop()
