"""Imported only by the forkserver of the PDF layout processes (pdf.Workers): when the
build that started it is gone (killed, say), the forkserver ends, and with it its layout
processes (each dies with its parent: pdf._orphan_dies). Without this, the processes
hold each other's pipes open and would wait for work forever."""

from __future__ import annotations

import os
import threading
import time


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)


if os.getppid() == 1:  # the build was gone before this forkserver had started
    os._exit(0)
threading.Thread(target=_watch, args=(os.getppid(),), name="policybrief-reaper",
                 daemon=True).start()
