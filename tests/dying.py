"""A stand-in for a layout process's work that kills the process doing it (as the
system's out-of-memory killer would): imported by the layout processes themselves."""

from __future__ import annotations

import os
import signal
from typing import Any


def lay_out_part(*args: Any) -> Any:
    os.kill(os.getpid(), signal.SIGKILL)


def busy(started: str) -> None:
    """Half a minute of work in a layout process, begun once ``started`` exists."""
    import time
    from pathlib import Path

    Path(started, str(os.getpid())).touch()
    time.sleep(30)


def slow_start(*args: Any) -> None:
    """A layout process's start-up (pdf._process_start), then half a minute more: a
    build stopped meanwhile finds its processes started but not ready."""
    import time

    from policybrief.render import pdf

    pdf._process_start(*args)
    time.sleep(30)
