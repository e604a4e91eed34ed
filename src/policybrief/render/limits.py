"""Bounds for work done in this process: a time limit and a memory limit.

pandoc runs in its own process and is bounded there (``pandoc.py``). WeasyPrint runs in
this one; a watchdog thread measures the elapsed time and the process's resident memory
and, past either limit, interrupts the main thread, where the layout runs, with a
RenderError. (Outside the main thread there is nothing to interrupt: the work runs
unbounded, as a library call would.)
"""

from __future__ import annotations

import _thread
import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

from ..errors import RenderError

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_mb() -> float:
    """This process's resident memory in MB (Linux; 0 where /proc is not there)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * PAGE / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


# the bounds in force in the main thread, outermost first (a bound may hold another)
_DEPTH: list[str] = []


class _Stop(BaseException):
    """Raised in the main thread by the watchdog; a BaseException so that no
    ``except Exception`` inside the library being bounded can swallow it."""


@contextlib.contextmanager
def bounded(seconds: float, megabytes: float, what: str, where: str | None = None
            ) -> Iterator[None]:
    """Run the body; past ``seconds`` or ``megabytes`` it stops with a RenderError (at
    ``where``, when the work is one file's; the PDF's layout is no one line's)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reason: list[str] = []
    done = threading.Event()
    start = time.monotonic()

    caught = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            if not reason:
                if time.monotonic() - start > seconds:
                    reason.append(f"took longer than {seconds:g} s")
                elif resident_mb() > megabytes:
                    reason.append(f"needed more than {megabytes:g} MB of memory")
            if reason:
                # again every half second until the body stops: a stop that lands in a
                # finalizer (a __del__ run by the collector) is swallowed there
                _thread.interrupt_main(signal.SIGUSR1)
                if done.wait(0.5):
                    return

    def stop(signum: int, frame: FrameType | None) -> None:
        if not (done.is_set() or caught.is_set()):
            raise _Stop()

    watcher = threading.Thread(target=watch, name="policybrief-limits", daemon=True)
    previous = signal.getsignal(signal.SIGUSR1)
    around = len(_DEPTH)  # the bounds around this one
    # Set up inside the try: a stop may land while this bound is being set up (the
    # watchdog of a bound around it, firing as it starts): raised there, outside the
    # try, it left this handler in place and this watchdog running for good, its
    # stop sent every half second to whatever ran next under a bound ("was interrupted")
    try:
        _DEPTH.append(what)
        signal.signal(signal.SIGUSR1, stop)
        watcher.start()
        yield
    except _Stop:
        caught.set()
        if not reason and around:
            raise  # the stop of a bound around this one: it says why
        raise RenderError(f"{what} {reason[0] if reason else 'was interrupted'}; a very long "
                          "or deeply nested section?", where, 1 if where else None,
                          hint="POLICYBRIEF_PDF_SECONDS and POLICYBRIEF_PDF_MEGABYTES set "
                               "the PDF's limits") from None
    finally:
        del _DEPTH[around:]
        done.set()
        with contextlib.suppress(RuntimeError):  # (not started: it sees done, and ends)
            watcher.join()
        signal.signal(signal.SIGUSR1, previous)
