"""The probes' backend when docker-py reads an exec's output out of step with its frames: the probe runs
again, a few times at most (engine_exec.READS); no engine needed."""
import pytest

from scenarios.executor import engine_exec
from scenarios.executor.engine_exec import host


class Garbled:
    """The engine's API as docker-py gives it, whose first `garbled` reads come out of step with the frames."""

    def __init__(self, garbled):
        self.garbled, self.created = garbled, 0

    def exec_create(self, container, cmd, user=""):
        self.created += 1
        return {"Id": f"exec-{self.created}"}

    def exec_start(self, exec_id, demux):
        if self.created <= self.garbled:
            raise ValueError("32 is not a valid stream")
        return b"read again\n", None

    def exec_inspect(self, exec_id):
        return {"ExitCode": 0}


@pytest.mark.parametrize("garbled", [1, 2])
def test_a_probe_read_out_of_step_runs_again(monkeypatch, garbled):
    engine = Garbled(garbled)
    monkeypatch.setattr(engine_exec, "api", lambda: engine)
    result = host("root@any").run("cat /proc/1/stat")
    assert (result.stdout, result.rc, engine.created) == ("read again\n", 0, garbled + 1)


def test_a_probe_that_never_reads_in_step_says_so():
    engine = Garbled(engine_exec.READS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine_exec, "api", lambda: engine)
        with pytest.raises(ValueError, match="not a valid stream"):
            host("root@any").run("true")
    assert engine.created == engine_exec.READS
