"""Let a short critical section finish before Ctrl-C or SIGTERM take effect."""
from __future__ import annotations

import contextlib
import os
import signal
import threading


@contextlib.contextmanager
def deferred_signals(signums=(signal.SIGINT, signal.SIGTERM)):
    """Within the block, ``signums`` are recorded instead of acted on; on exit the first one is acted on.

    Writing a group of files that must agree (a run folder's metrics, table, figures and report) is such a
    section: a signal in the middle would leave them contradicting each other. On exit the handler that was in
    place runs (Python's raises ``KeyboardInterrupt``), or, for the default action, the signal is sent again.
    Outside the main thread (where handlers cannot be set) the block runs unprotected.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for signum in signums:
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, lambda n, frame: received.append(n))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received:
            first = received[0]
            handler = previous[first]
            if callable(handler):
                handler(first, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), first)


__all__ = ["deferred_signals"]
