"""The kernel's TCP counters as the snapshot reads them, on /proc/net/snmp and /proc/net/netstat as recorded."""
from pathlib import Path

from scenarios.executor.probe import SNAPSHOT, parse_proc_net, parse_tcp_counters, sections
from scenarios.vocabulary.results import SnapshotResult, TcpCounters

from recorded import trial

PROC = Path(__file__).parent / "proc"
SNMP = (PROC / "snmp.txt").read_text()
NETSTAT = (PROC / "netstat.txt").read_text()


def test_each_group_is_read_from_its_pair_of_lines():
    snmp = parse_proc_net(SNMP)
    assert list(snmp) == ["Ip", "Icmp", "IcmpMsg", "Tcp", "Udp", "UdpLite"]
    assert snmp["Tcp"]["PassiveOpens"] == 5800 and snmp["Tcp"]["MaxConn"] == -1
    netstat = parse_proc_net(NETSTAT)
    # MPTcpExt is a group of its own, not more of TcpExt.
    assert list(netstat) == ["TcpExt", "IpExt", "MPTcpExt"]
    assert (netstat["TcpExt"]["ListenOverflows"], netstat["TcpExt"]["ListenDrops"]) == (29, 29)


def test_the_three_counters_come_from_both_files():
    assert parse_tcp_counters(SNMP, NETSTAT) == TcpCounters(passive_opens=5800, listen_overflows=29,
                                                            listen_drops=29)


def test_a_file_that_was_not_read_gives_no_counters():
    assert parse_tcp_counters(SNMP, "") is None
    assert parse_tcp_counters("", NETSTAT) is None
    # A values line cut short (the probe killed halfway) does not count as values.
    assert parse_tcp_counters(SNMP, NETSTAT.splitlines()[0] + "\nTcpExt: 0 0 0\n") is None


def test_the_snapshot_reads_both_files_in_sections_of_their_own():
    assert "cat /proc/net/snmp" in SNAPSHOT and "cat /proc/net/netstat" in SNAPSHOT
    output = "@@ps\n  PID  PPID USER\n@@snmp\n" + SNMP + "@@netstat\n" + NETSTAT
    parts = sections(output)
    assert parse_tcp_counters(parts["snmp"], parts["netstat"]).passive_opens == 5800


def counters(opens, overflows, drops=None):
    return TcpCounters(opens, overflows, overflows if drops is None else drops)


def test_the_trial_reads_the_difference_from_the_baseline_to_the_final_snapshot():
    record = trial("3d", "3d", baseline=SnapshotResult(tcp=counters(2, 1)),
                   final=SnapshotResult(tcp=counters(196, 213, 215)))
    assert record.tcp_since_baseline() == counters(194, 212, 214)
    assert (record.reached_accept, record.listen_overflows, record.listen_drops) == (194, 212, 214)


def test_without_a_final_snapshot_the_last_one_an_action_took_counts():
    record = trial("3d", "3d", exit_code=1, baseline=SnapshotResult(tcp=counters(0, 0)),
                   results={"early": SnapshotResult(tcp=counters(10, 0)), "late": SnapshotResult(tcp=counters(40, 3))})
    assert record.tcp_since_baseline() == counters(40, 3)


def test_a_server_that_died_before_any_later_snapshot_has_no_readings():
    # Its network namespace, and the counters in it, went with the container.
    died = trial("3d", "3d", exit_code=1, baseline=SnapshotResult(tcp=counters(0, 0)))
    assert died.tcp_since_baseline() is None and died.reached_accept is None
    unread = trial("3d", "3d", baseline=SnapshotResult(), final=SnapshotResult(tcp=counters(5, 0)))
    assert unread.listen_overflows is None
