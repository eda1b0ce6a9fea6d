"""Observations shaped like real runs, for testing judges and reports without containers."""
from lbaws.stages import HELLO
from scenarios.executor.probe import Sample
from scenarios.vocabulary.record import Observations, TrialRecord
from scenarios.vocabulary.results import CurlResult, CurlsResult, LoadResult, SnapshotResult

EMFILE_TRACEBACK = """Traceback (most recent call last):
  File "/opt/venv/bin/lbaws", line 8, in <module>
  File "/opt/venv/lib/python3.11/site-packages/lbaws/process_models.py", line 58, in serve_forking
    conn, address = server.python2.accept(server.listener)
  File "/usr/lib/python3.11/socket.py", line 294, in accept
    fd, addr = self._accept()
OSError: [Errno 24] Too many open files"""

EAGAIN_TRACEBACK = """Traceback (most recent call last):
  File "/opt/venv/lib/python3.11/site-packages/lbaws/process_models.py", line 72, in serve_forking
    pid = os.fork()
BlockingIOError: [Errno 11] Resource temporarily unavailable"""


def samples(points):
    """(t, fds, live, zombies) tuples -> Samples; fds None marks the server gone."""
    return [Sample(t=t, alive=fds is not None, fds=fds, live=live, zombies=zombies,
                   zombie_pids=list(range(100, 100 + zombies))) for t, fds, live, zombies in points]


def one_curl(body=HELLO, exit=0, ttfb=0.01, total=0.02, n=1):
    return CurlResult(n=n, exit=exit, status=200, ttfb_s=ttfb, total_s=total, body=body)


def curl(body=HELLO, exit=0, ttfb=0.01, total=0.02):
    return CurlsResult(curls=(one_curl(body, exit, ttfb, total),), wall_s=total, exec_rc=0)


def load(**summary):
    return LoadResult(command="lbaws-client ...", exit=0, summary=summary, wall_s=1.0, stderr_tail="")


def fds(count):
    return SnapshotResult(fd_count=count)


def trial(key, stage, nofile=1024, nproc=1024, **fields):
    """A record of a trial that ran; its planned actions are the results it holds unless given."""
    record = TrialRecord(key=key, stage=stage, app=None, image="lbaws-lab/server:latest",
                         limits={"nofile": nofile, "nproc": nproc, "pids_limit": nproc + 128, "memory": "1g"},
                         uid=23456, server_pid=1, started=True)
    for name, value in fields.items():
        setattr(record, name, value)
    if "planned" not in fields:
        record.planned = tuple(record.results)
    return record


def observations(*records):
    obs = Observations()
    for record in records:
        obs.add(record)
    return obs


def fd_exhaustion(accepted=252, error_traceback=EMFILE_TRACEBACK, fixed_died=False):
    leaky = trial("3d", "3d", nofile=256, exit_code=1, baseline=fds(4),
                  logs="Serving HTTP on port 8888 ...\n" + "".join(f"{n}\n" for n in range(1, accepted + 1))
                  + error_traceback + "\n",
                  samples=samples([(0.5, 4, 0, 0), (1.0, 120, 2, 114), (1.5, 250, 1, 245), (1.8, None, 0, 0)]),
                  results={"load": load(connected=300)}, planned=("load", "settle"))
    fixed = trial("3g", "3g", nofile=256, exit_code=1 if fixed_died else None, baseline=fds(4),
                  final=None if fixed_died else fds(4),
                  samples=samples([(0.5, 4, 0, 0), (1.0, 9, 5, 0), (2.0, 4, 0, 0)]),
                  results={"load": load(connected=300), "curl": curl()}, planned=("load", "settle", "curl"))
    return observations(leaky, fixed)
