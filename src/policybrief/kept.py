"""What the build keeps under ``build/.cache/`` between builds: its cache folders, and
their files read and written safely.

A cache folder's entries are keyed, among other things, by the folder's identity (see
:func:`identity`): the device, inode and inode-change time of a file the cache makes in
it, which no archive, copy or planted file can set. Entries arriving from elsewhere (a
project unpacked with its build/, a folder copied) are never found, and no one can hand
a build something made in advance; a folder moved as a whole keeps them. Files are read
and written never through a symbolic link, and replaced in one rename.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

MADE = "made"  # the file whose identity keys the entries of a cache folder
# build/'s caches, under build/:
# the PDF's parts as laid out by the last builds (render/pdf/cache.py)
LAYOUT_CACHE = Path(".cache") / "layout"
# the brief's sections as pandoc read them (render/parsed.py)
PANDOC_CACHE = Path(".cache") / "pandoc"
# the templates as Jinja compiled them (assemble/assembly.py)
JINJA_CACHE = Path(".cache") / "jinja"
# the documents found valid against their schemas (schemas.py)
SCHEMA_CACHE = Path(".cache") / "schemas"
CACHES = (LAYOUT_CACHE, PANDOC_CACHE, JINJA_CACHE, SCHEMA_CACHE)


def cache_folder(build: Path, which: Path) -> Path | None:
    """The folder of one of build/'s caches, unless a link stands on the way to it
    (outputs.guard refuses the build then; nothing is read or removed through it)."""
    folder = build / which
    if any(p.is_symlink() for p in (build, folder.parent, folder)):
        return None
    return folder


def identity(folder: Path, make: bool = True) -> str:
    """``folder`` made if need be (unless not to ``make`` it), and its identity (see
    above); OSError when it cannot be made, is not yet made, or is not a folder of
    regular files of ours."""
    if make:
        folder.mkdir(parents=True, exist_ok=True)
    if not stat.S_ISDIR(os.stat(folder, follow_symlinks=False).st_mode):
        raise NotADirectoryError(folder)
    marker = folder / MADE
    if make:
        with contextlib.suppress(FileExistsError):
            os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                             getattr(os, "O_NOFOLLOW", 0), 0o644))
    status = os.stat(marker, follow_symlinks=False)
    if not stat.S_ISREG(status.st_mode):
        raise FileExistsError(marker)
    return f"{status.st_dev}:{status.st_ino}:{status.st_ctime_ns}"


def read(path: Path, largest: int) -> bytes:
    """The bytes of the regular file ``path`` (never through a symbolic link, and never
    waiting: a named pipe, opened without O_NONBLOCK, waits for a writer)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) |
                 getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode) or status.st_size > largest:
            raise ValueError(f"{path.name}: not a regular file, or too large")
        return handle.read()


def write(path: Path, data: bytes) -> None:
    """``path`` replaced by ``data`` in one rename (a kill leaves the old file or the new,
    and a temporary file, named with a leading dot, that the cache's pruning removes)."""
    from .confine import write_new

    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    try:
        write_new(temp, data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def clear(folder: Path, keep: Callable[[str], bool] = lambda name: False) -> bool:
    """Remove every entry (and what killed builds left) under ``folder``, but those
    whose names ``keep`` says; whether anything was removed. Regular files only, never
    through a link."""
    removed = False
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    for name in names:
        path = folder / name
        with contextlib.suppress(OSError):
            if not keep(name) and not path.is_symlink() and path.is_file():
                path.unlink()
                removed = True
    return removed


def prune(folder: Path, used: set[str], keep: int, companions: tuple[str, ...] = ()) -> None:
    """Keep the entries ``used`` by this build and the most recently used others,
    ``keep`` in all; remove what a killed build left (a temporary file, or a companion
    file without its entry). An entry is ``<key>.json`` and, for each suffix of
    ``companions``, ``<key><suffix>``; regular files only, never through a link."""
    try:
        names = set(os.listdir(folder))
    except OSError:
        return
    entries = []
    for name in names:
        path = folder / name
        with contextlib.suppress(OSError):
            if path.is_symlink() or not path.is_file():
                continue
            stem, suffix = os.path.splitext(name)
            if name.startswith("."):  # a temporary file of a build that was killed
                path.unlink()
            elif suffix == ".json":
                if stem in used:
                    os.utime(path)  # (kept longest)
                entries.append((stem in used, path.stat().st_mtime, stem))
            elif suffix in companions and f"{stem}.json" not in names and stem not in used:
                path.unlink()  # half an entry (a kill, a full disk)
    entries.sort(reverse=True)
    for _, _, stem in entries[keep:]:
        for suffix in (".json", *companions):
            with contextlib.suppress(OSError):
                (folder / f"{stem}{suffix}").unlink()
