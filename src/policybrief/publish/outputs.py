"""Stage 7, write: every output of a build swapped in together, or none of them.

Nothing is written until everything has been loaded, checked and rendered. A build's
outputs form one set in ``build/.builds/<id>/``; ``build/current`` is a symbolic link to
the newest complete set, replaced in one atomic rename, and ``build/brief.pdf`` and its
siblings are links through ``current``. A failure or a kill at any point leaves the
previous complete set in place: a reader sees the old outputs or the new ones, never a
mix. Outputs a build did not render again are hard-linked from the previous set, so
their bytes and modification times stay as they were. A lock file stops two builds
writing at once; each set remembers the content hash of its outputs' inputs, so that a
rebuild with nothing changed writes nothing at all.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

from ..errors import BriefError

STATE = ".state.json"
CURRENT = "current"
BUILDS = ".builds"
KEEP = 2  # complete sets kept: the current one and the one before


@contextlib.contextmanager
def locked(build: Path) -> Iterator[None]:
    """Hold ``build/.lock`` for the duration; a second build at once is refused."""
    build.mkdir(parents=True, exist_ok=True)
    with open(build / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BriefError("another build is writing to build/ right now; wait for it",
                             "build/.lock", 1, rule="build.busy") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current(build: Path) -> Path | None:
    """The folder of the current complete set, if there is one."""
    link = build / CURRENT
    if link.is_symlink() and link.resolve().is_dir():
        return link.resolve()
    return None


def read_state(build: Path) -> dict[str, str]:
    folder = current(build)
    if folder is None:
        return {}
    try:
        data = json.loads((folder / STATE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def unchanged(build: Path, name: str, digest: str, state: Mapping[str, str]) -> bool:
    """True when the current set has ``name``, made from inputs with this ``digest``."""
    folder = current(build)
    return folder is not None and state.get(name) == digest and (folder / name).is_file()


def _fsync_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _swap_link(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` in one atomic rename."""
    temp = link.with_name(f".{link.name}.{os.getpid()}.link")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    os.symlink(target, temp)
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)
    os.replace(temp, link)


def publish(build: Path, files: Mapping[str, bytes], digests: Mapping[str, str]) -> list[str]:
    """Make a new complete set from ``files`` plus the unchanged outputs; return what changed.

    ``files`` maps names under ``build/`` (``brief.pdf``, ``sources/x.html``) to bytes.
    """
    previous = current(build)
    old_names = {p.relative_to(previous).as_posix() for p in previous.rglob("*")
                 if p.is_file() and p.name != STATE} if previous else set()
    changed = sorted(n for n, data in files.items()
                     if not (previous and (previous / n).is_file()
                             and (previous / n).read_bytes() == data))
    if previous is not None and not changed and set(digests.items()) <= set(
            read_state(build).items()):
        return []
    builds = build / BUILDS
    stage = builds / f".stage-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    try:
        identity = hashlib.sha256()
        for name in sorted(old_names | set(files)):
            target = stage / name
            if name in files and name in changed:
                _fsync_write(target, files[name])
                identity.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
            else:
                assert previous is not None
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(previous / name, target)
                identity.update(name.encode() + b"\0" + hashlib.sha256(
                    (previous / name).read_bytes()).digest())
        state = json.dumps({**read_state(build), **digests}, indent=1, sort_keys=True)
        (stage / STATE).write_text(state, "utf-8")
        identity.update(state.encode())
        final = builds / identity.hexdigest()[:16]
        if previous is not None and final == previous:
            # the same set again: only a file missing or damaged in it can have changed;
            # put the staged copy back in its place
            for name in changed:
                os.replace(stage / name, previous / name)
            shutil.rmtree(stage)
            return changed
        if final.exists():
            shutil.rmtree(final)
        os.rename(stage, final)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _swap_link(build / CURRENT, f"{BUILDS}/{final.name}")
    for top in sorted({n.split("/")[0] for n in old_names | set(files)}):
        link = build / top
        if not (link.is_symlink() and os.readlink(link) == f"{CURRENT}/{top}"):
            _swap_link(link, f"{CURRENT}/{top}")
    _collect(builds, keep={final.name, previous.name if previous else ""})
    return changed


def _collect(builds: Path, keep: set[str]) -> None:
    """Remove sets other than the ones kept, and stages left by killed builds."""
    sets = sorted((p for p in builds.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for folder in sets:
        if folder.name in keep:
            continue
        if folder.name.startswith(".stage-"):
            pid = folder.name.removeprefix(".stage-")
            if pid.isdigit() and _alive(int(pid)):
                continue
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
