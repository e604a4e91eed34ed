"""The build's temporary files: in ``build/.tmp/``, never in the system's temporary folder.

A process of a build that needs temporary files (the build itself; each process laying
out the PDF, whose fonts WeasyPrint copies to a folder to load them) has a folder of its
own, ``build/.tmp/<pid>-<random>/``, made the first time it asks (:func:`claim`). The
folder goes when its process ends the usual way (at exit); a process that was killed,
or ended without its exit handlers (``os._exit``, as the layout processes and the
``brief`` command do), leaves it behind, and the next process of a build that claims a
folder, or the build as it ends (:func:`sweep`), removes every folder whose process is
no longer running (or is running, but started after the folder was last written: its
number reused). ``build/.tmp`` holds nothing else: whatever is there without a
folder name of this form is left alone, and a symbolic link there (or a ``build/`` that
is one) is refused, never followed.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import stat
import tempfile
import threading
from pathlib import Path

from .errors import BriefError

TMP = ".tmp"
NAME = re.compile(r"(\d+)-[a-z0-9_]{8}")  # <pid>-<random>: tempfile.mkdtemp's eight

# a process started this long (seconds) after its folder was last written is another's:
# the clock stepped forward meanwhile (by NTP, say) must not make a running one look so
SLACK = 60

_LOCK = threading.Lock()
_OWN: dict[Path, Path] = {}  # build/ (absolute) → this process's folder in it
_CURRENT: list[Path] = []  # the folder claimed last (see current)
_ADOPTED: list[Path] = []  # in a layout process: the build/ it works for (see adopt)


def root(build: Path) -> Path:
    """``build/.tmp``, made if need be; a BriefError when ``build/`` or it is a link (or
    not a folder)."""
    folder = build / TMP
    for path, shown in ((build, "build"), (folder, f"build/{TMP}")):
        if path.is_symlink():
            raise BriefError(f"{shown} is a symbolic link to '{os.readlink(path)}'; the "
                             "build keeps its temporary files only in a folder of its own",
                             shown, 1, hint=f"remove the link: rm {shown}",
                             rule="build.foreign")
    with contextlib.suppress(FileExistsError):  # (a file there: said below)
        folder.mkdir(parents=True)
    if not stat.S_ISDIR(os.stat(folder, follow_symlinks=False).st_mode):
        raise BriefError(f"build/{TMP} is not a folder; the build keeps its temporary "
                         "files there", f"build/{TMP}", 1, hint=f"remove it: rm build/{TMP}",
                         rule="build.foreign")
    return folder


def claim(build: Path) -> Path:
    """This process's temporary folder in ``build/`` (made the first time, and the
    folders of processes that have ended removed then)."""
    key = Path(os.path.abspath(build))
    with _LOCK:
        own = _OWN.get(key)
        if own is not None and own.is_dir():
            _current(own)
            return own
        where = root(key)
        sweep(key)
        own = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=where))
        if not _OWN:
            atexit.register(release)
        _OWN[key] = own
        _current(own)
        return own


def _current(folder: Path) -> None:
    _CURRENT[:] = [folder]


def current() -> Path | None:
    """The temporary folder this process claimed last (None before any): where code
    that is not told the project (WeasyPrint's font folders) puts its files. In a
    layout process whose claim failed as it started (build/ full, say), claimed now:
    the error is then the work's, and said by the build."""
    if not _CURRENT and _ADOPTED:
        tempfile.tempdir = str(claim(_ADOPTED[0]))
    return _CURRENT[0] if _CURRENT else None


def adopt(folder: Path) -> None:
    """In a process started for the build (a layout process): ``folder``, the build's
    ``build/``, is where this process's temporary files go, its own and those of the
    libraries it uses (``tempfile``'s default folder, for this process only)."""
    from multiprocessing import util

    build = Path(os.path.abspath(folder))
    _ADOPTED[:] = [build]
    # never the system's folder, not even when the claim fails (then nothing can be made
    # until current() claims it: the error is said by the work that needed the folder)
    tempfile.tempdir = str(build / TMP / f"{os.getpid()}-unclaimed")
    # a layout process ends with os._exit, its exit handlers not run: multiprocessing's
    # finalizers are, when it ends the usual way (a killed one leaves it to sweep)
    util.Finalize(None, release, exitpriority=0)
    tempfile.tempdir = str(claim(build))


def sweep(build: Path) -> None:
    """Remove the folders in ``build/.tmp`` of processes that are no longer running."""
    folder = build / TMP
    if build.is_symlink() or folder.is_symlink() or not folder.is_dir():
        return
    mine = {p.name for p in _OWN.values()}
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            match = NAME.fullmatch(entry.name)
            if match is None or entry.name in mine or entry.is_symlink() or \
                    not entry.is_dir(follow_symlinks=False):
                continue
            written = entry.stat(follow_symlinks=False).st_mtime
            if not alive(int(match.group(1)), written):
                shutil.rmtree(entry.path, ignore_errors=True)  # (never follows a link)


def release() -> None:
    """Remove this process's temporary folders (at exit, and before ``os._exit``)."""
    with _LOCK:
        for own in _OWN.values():
            shutil.rmtree(own, ignore_errors=True)
        _OWN.clear()
        _CURRENT.clear()


def alive(pid: int, written: float | None = None) -> bool:
    """Whether process ``pid`` is running (a zombie, ended but not yet reaped, is not),
    and, given when what it left was ``written`` last, is the one that left it: a
    process started after that (its number reused: they are, and soon after a restart)
    is not."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        state, ticks = fields[0], int(fields[19])  # (stat's 3rd and 22nd fields)
    except (OSError, IndexError, ValueError):
        return True
    if state in (b"Z", b"X"):
        return False
    return written is None or _boot() + ticks / os.sysconf("SC_CLK_TCK") <= written + SLACK


def _boot() -> float:
    """When the machine started (seconds since the epoch; -inf if unknown: then no
    process is taken to have started after anything)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/stat", "rb") as handle:
        for line in handle:
            if line.startswith(b"btime "):
                return float(line.split()[1])
    return float("-inf")
