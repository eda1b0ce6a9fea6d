"""Ctrl-C during an engine request that creates something acts after it, never halfway; cleanup is never cut."""
import os
import signal

import pytest

from lab import interrupts


@pytest.fixture(autouse=True)
def ctrl_c_raises():
    """As every command sets it at start, even when launched with SIGINT ignored (setsid ... &)."""
    saved = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, saved)


def test_a_ctrl_c_during_a_held_request_acts_once_it_is_answered():
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts.held():
            os.kill(os.getpid(), signal.SIGINT)
            finished.append("the request was answered")
    assert finished == ["the request was answered"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_held_request_without_a_signal_raises_nothing():
    with interrupts.held():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigterm_held_reaches_the_handler_that_was_there():
    seen = []
    saved = signal.signal(signal.SIGTERM, lambda signum, _frame: seen.append(signum))
    try:
        with interrupts.held():
            os.kill(os.getpid(), signal.SIGTERM)
            assert seen == []
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, saved)


def test_cleanup_ignores_ctrl_c_and_restores_it_after():
    with interrupts.uninterrupted():
        os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
