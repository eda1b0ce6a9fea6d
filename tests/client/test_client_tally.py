"""Adding up events: counters, the peak of open connections, clients that were killed."""

from lbaws.client import events
from lbaws.client.events import Event, LineReader, decode, encode
from lbaws.client.summary import Tally


def test_event_lines_round_trip_and_garbage_is_dropped():
    event = Event(events.FAILED, 12, 3, 1234.5, events.REFUSED, "connect:ECONNREFUSED")
    assert decode(encode(event).rstrip(b"\n")) == event
    assert decode(b"half a line") is None
    assert decode(b"C x 1 2.0 - -") is None


def test_line_reader_joins_lines_split_across_reads():
    import os
    rfd, wfd = os.pipe()
    try:
        os.set_blocking(rfd, False)
        reader = LineReader(rfd)
        data = encode(Event(events.CONNECTED, 1, 0, 5.0)) + encode(Event(events.CLOSED, 1, 0, 6.0))
        os.write(wfd, data[:7])
        assert reader.read_available(0.1) == []
        os.write(wfd, data[7:])
        assert [e.kind for e in reader.read_available(0.1)] == [events.CONNECTED, events.CLOSED]
        os.close(wfd)
        wfd = None
        assert reader.read_available(0.1) == [] and reader.eof
    finally:
        os.close(rfd)
        if wfd is not None:
            os.close(wfd)


def _tally(*evs):
    tally = Tally(clients=3, t0=100.0)
    for ev in evs:
        tally.add(Event(*ev))
    return tally


def test_counts_and_status():
    tally = _tally(
        ("C", 0, 0, 100.1), ("R", 0, 0, 100.3, "200"), ("X", 0, 0, 100.4),
        ("F", 1, 0, 100.2, "refused", "connect:ECONNREFUSED"),
        ("F", 2, 0, 100.2, "timed_out", "connect:ETIMEDOUT"),
        ("C", 2, 1, 100.2), ("F", 2, 1, 100.9, "timed_out", "read:ETIMEDOUT"), ("X", 2, 1, 101.0),
    )
    result = tally.result(end=101.5)
    assert result["connections_attempted"] == 4
    assert result["connected"] == 2
    assert (result["refused"], result["timed_out"], result["reset"], result["errors"]) == (1, 2, 0, 0)
    assert result["status_counts"] == {"200": 1}
    assert result["failures"] == {"connect:ECONNREFUSED": 1, "connect:ETIMEDOUT": 1, "read:ETIMEDOUT": 1}
    assert result["first_response_s"] == 0.3
    assert result["last_connected_s"] == 0.2
    assert result["elapsed_s"] == 1.5
    assert result["max_concurrent_open"] == 2


def test_peak_counts_only_true_overlap():
    # The second opens exactly when the first closes: never two at once.
    tally = _tally(("C", 0, 0, 1.0), ("X", 0, 0, 2.0), ("C", 1, 0, 2.0), ("X", 1, 0, 3.0))
    assert tally.max_concurrent_open() == 1


def test_a_killed_client_closes_its_connections_when_reaped():
    tally = _tally(("C", 0, 0, 1.0), ("C", 0, 1, 1.1), ("C", 1, 0, 5.0))
    assert tally.open_now == 3
    tally.client_gone(0, 4.0)   # killed before it could report its closes
    assert tally.open_now == 1
    assert tally.max_concurrent_open() == 2
