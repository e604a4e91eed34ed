"""Imported only by the forkserver of the PDF layout processes (pdf.Workers): when the
build that started it is gone (killed, say), the forkserver ends, and with it its layout
processes (each dies with its parent: pdf._orphan_dies). Without this, the processes
hold each other's pipes open and would wait for work forever.

The forkserver listens on a socket in a folder multiprocessing made for it in the
system's temporary folder (``pymp-…``; the build's own temporary files are in
``build/.tmp``, scratch.py, but a socket's path is limited to about a hundred bytes).
A build that ends removes that folder; one that was killed cannot, and the forkserver
removes it on its way out.

Ctrl-C and SIGTERM are the build's to answer (it kills its layout processes, waits for
them, and says "interrupted"): the forkserver is started with them blocked
(pdf.Workers), and ignores them from here on; every layout process it forks begins
with Ctrl-C ignored (its handlers), and sets SIGTERM back to its default. Else a Ctrl-C
as it imported WeasyPrint, or as a process began, printed that process's traceback; a
SIGTERM to the whole group (a service manager's stop, ``timeout``) ended the
forkserver, and with it the word the build waits for that a killed process is gone."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import threading
import time

from . import STOPS  # (imported before this module in the forkserver)


def _listening_folder() -> str | None:
    """The folder of this forkserver's socket (multiprocessing's ``pymp-…``), if found."""
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError, ValueError):
                fd = int(name)
                if not os.path.islink(f"/proc/self/fd/{fd}") or \
                        not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                    continue
                with socket.socket(fileno=os.dup(fd)) as sock:
                    if sock.family != socket.AF_UNIX:
                        continue
                    address = sock.getsockname()
                if isinstance(address, str) and address.startswith("/"):
                    folder, base = os.path.split(address)
                    if base.startswith("listener-") and \
                            os.path.basename(folder).startswith("pymp-"):
                        return folder
    return None


def _watch(parent: int, folder: str | None) -> None:
    while os.getppid() == parent:
        time.sleep(0.2)
    _remove(folder)
    os._exit(0)


def _remove(folder: str | None) -> None:
    if folder is not None:  # (gone already when the build ended the usual way)
        shutil.rmtree(folder, ignore_errors=True)


# (before the forkserver saves its handlers, which its processes begin with; unblocked
# once ignored, a stop that came meanwhile is dropped)
for _stop in STOPS:
    signal.signal(_stop, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
_PARENT = os.getppid()
_FOLDER = _listening_folder()
# the forkserver also ends by itself when the build is gone (its pipe from the build at
# its end): the folder goes then too. (Its layout processes, forked from it, end with
# os._exit: this is not run for them.)
atexit.register(_remove, _FOLDER)
if _PARENT == 1:  # the build was gone before this forkserver had started
    _remove(_FOLDER)
    os._exit(0)
threading.Thread(target=_watch, args=(_PARENT, _FOLDER), name="policybrief-reaper",
                 daemon=True).start()
