"""Reading ps and /proc output as the sampler sees it inside a server container."""
from scenarios.executor.probe import parse_limits, parse_sample, server_pid_from, parse_ps

# A 3d server (PID 1, UID 23456) with two zombies and one live child, while the probe itself (root,
# parent 0: docker exec) runs sh and ps, and an orphan zombie from another parent exists.
PS = """\
      1       0 Ss   23456 lbaws
      7       1 Z    23456 lbaws
      8       1 Z    23456 lbaws
      9       1 S    23456 lbaws
     12      11 Z    23456 lbaws
     11       0 Ss       0 sh
     13      11 R        0 ps
"""
SAMPLE = "@@fds\n7\n@@ps\n" + PS


def test_sample_counts_only_the_servers_own_children():
    sample = parse_sample(SAMPLE, server_pid=1, t=1.25)
    assert (sample.alive, sample.fds, sample.live, sample.zombies) == (True, 7, 1, 2)
    assert sample.zombie_pids == [7, 8]


def test_a_server_that_is_gone_is_not_alive_and_has_no_fd_count():
    only_probe = "@@fds\n0\n@@ps\n     11       0 Ss       0 sh\n     13      11 R        0 ps\n"
    sample = parse_sample(only_probe, server_pid=1, t=3.0)
    assert not sample.alive
    assert sample.fds is None


def test_the_server_is_the_lbaws_process_whose_parent_is_not_lbaws():
    assert server_pid_from(parse_ps(PS)) == 1
    # Under an init (tini as PID 1), the server is a child of it; its own children still are not the server.
    under_init = "      1       0 Ss   0 docker-init\n      6       1 S   23456 lbaws\n      9       6 S   23456 lbaws\n"
    assert server_pid_from(parse_ps(under_init)) == 6


LIMITS = """\
Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max processes             400                  400                  processes 
Max open files            256                  256                  files     
"""


def test_limits_are_read_as_soft_and_hard():
    limits = parse_limits(LIMITS)
    assert limits["Max open files"] == ("256", "256")
    assert limits["Max processes"] == ("400", "400")
    assert limits["Max cpu time"] == ("unlimited", "unlimited")
