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
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

from .. import scratch
from ..errors import BriefError

STATE = ".state.json"
CURRENT = "current"
BUILDS = ".builds"
KEEP = 2  # complete sets kept: the current one and the one before


MADE = ".builds.json"  # beside build/.builds: the folders in it this housekeeping created


def guard(build: Path) -> None:
    """Refuse to touch ``build/`` when it, or anything in it, is a symbolic link other
    than the ones the output set makes (``current`` → ``.builds/<id>``, ``brief.pdf`` →
    ``current/brief.pdf``): a link planted there (``build/.builds`` → ``..``) would
    otherwise lead the housekeeping's deletions out of build/."""
    if build.is_symlink():
        raise BriefError(f"build/ is a symbolic link to '{os.readlink(build)}'; the build "
                         "writes and deletes only in a folder of its own", "build", 1,
                         hint="remove the link: rm build", rule="build.foreign")
    if not build.is_dir():
        if build.exists():
            raise BriefError("build is not a folder; the build writes its outputs in a "
                             "folder of its own there", "build", 1,
                             hint="move it out of the way: mv build build.old",
                             rule="build.foreign")
        return
    for folder, dirs, names in os.walk(build):
        for name in sorted(dirs + names):
            path = Path(folder, name)
            if not path.is_symlink():
                continue
            rel = path.relative_to(build)
            target = os.readlink(path)
            if _ours(rel, target):
                continue
            raise BriefError(f"build/{rel.as_posix()} is a symbolic link to '{target}', "
                             "which the build did not make; nothing is written or deleted "
                             "while it is there", f"build/{rel.as_posix()}", 1,
                             hint="remove it (or the whole build/ folder: it holds only "
                                  "outputs)", rule="build.foreign")


def _ours(rel: Path, target: str) -> bool:
    """A link the output set makes: ``current`` → ``.builds/<id>``, and each name beside
    it → ``current/<name>`` (and the temporary links they are swapped in with)."""
    if len(rel.parts) != 1:
        return False
    name = rel.parts[0]
    temp = re.fullmatch(r"\.(.+)\.\d+\.link", name)
    if temp:
        name = temp.group(1)
    if name == CURRENT:
        return re.fullmatch(rf"{re.escape(BUILDS)}/[0-9a-f]+", target) is not None
    return target == f"{CURRENT}/{name}"


@contextlib.contextmanager
def locked(build: Path) -> Iterator[None]:
    """Hold ``build/.lock`` for the duration; a second build at once is refused. The
    stages of builds that were killed are removed first."""
    guard(build)
    build.mkdir(parents=True, exist_ok=True)
    with open(build / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BriefError("another build is writing to build/ right now; wait for it",
                             "build/.lock", 1, rule="build.busy") from None
        try:
            guard(build)
            _collect(build / BUILDS, keep=None)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def tidy(build: Path) -> None:
    """Remove what killed builds left (their stages), when no build is running: the
    next build does it, whether it succeeds or not."""
    if not (build / BUILDS).is_dir():
        return
    guard(build)
    with contextlib.suppress(OSError), open(build / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        try:
            guard(build)
            _collect(build / BUILDS, keep=None)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _made(builds: Path) -> list[str]:
    """The names of the folders in ``build/.builds`` that the housekeeping created."""
    try:
        data = json.loads((builds.parent / MADE).read_text("utf-8"))
    except (OSError, ValueError):
        return []
    return [str(n) for n in data if isinstance(n, str)] if isinstance(data, list) else []


def _record(builds: Path, names: list[str]) -> None:
    builds.mkdir(parents=True, exist_ok=True)
    temp = builds.parent / f"{MADE}.{os.getpid()}"
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(sorted(set(names)), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, builds.parent / MADE)


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
        temp.unlink()
        rel = f"{link.parent.name}/{link.name}"
        raise BriefError(f"{rel} is a folder the build did not make, where it puts a link "
                         "to its outputs; nothing in it is deleted", rel, 1,
                         hint=f"move {rel} out of build/ (build/ holds only outputs)",
                         rule="build.foreign")
    os.replace(temp, link)


def publish(build: Path, files: Mapping[str, bytes], digests: Mapping[str, str]) -> list[str]:
    """Make a new complete set from ``files`` plus the unchanged outputs; return what changed.

    ``files`` maps names under ``build/`` (``brief.pdf``, ``sources/x.html``) to bytes.
    """
    for name in files:
        parts = name.split("/")
        if not name or name.startswith("/") or "\\" in name or "\0" in name or \
                any(part in ("", ".", "..") for part in parts):
            raise BriefError(f"an output named '{name}' would leave build/", "build", 1)
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
    guard(build)
    for top in sorted({n.split("/")[0] for n in old_names | set(files)}):
        if (build / top).is_dir() and not (build / top).is_symlink():
            raise BriefError(f"build/{top} is a folder the build did not make, where it puts "
                             "a link to its outputs; nothing in it is deleted",
                             f"build/{top}", 1,
                             hint=f"move build/{top} out of build/ (build/ holds only "
                                  "outputs)", rule="build.foreign")
    made = _made(builds)
    if stage.name in made:
        _remove(builds, stage.name)
    elif stage.exists() or stage.is_symlink():
        raise BriefError(f"build/{BUILDS}/{stage.name} is in the way and the build did not "
                         "make it", f"build/{BUILDS}/{stage.name}", 1, hint="remove it",
                         rule="build.foreign")
    # recorded before it is made: a kill between the two leaves a record of nothing
    _record(builds, [*made, stage.name])
    try:
        stage.mkdir()
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
            _remove(builds, stage.name)
            return changed
        if final.exists() or final.is_symlink():
            if final.name not in _made(builds):
                raise BriefError(f"build/{BUILDS}/{final.name} is in the way and the build "
                                 "did not make it", f"build/{BUILDS}/{final.name}", 1,
                                 hint="remove it", rule="build.foreign")
            _remove(builds, final.name)
        _record(builds, [*_made(builds), final.name])
        os.rename(stage, final)
        _record(builds, [n for n in _made(builds) if n != stage.name])
    except BaseException:
        _remove(builds, stage.name)
        raise
    _swap_link(build / CURRENT, f"{BUILDS}/{final.name}")
    for top in sorted({n.split("/")[0] for n in old_names | set(files)}):
        link = build / top
        if not (link.is_symlink() and os.readlink(link) == f"{CURRENT}/{top}"):
            _swap_link(link, f"{CURRENT}/{top}")
    _collect(builds, keep={final.name, previous.name if previous else ""})
    return changed


def _collect(builds: Path, keep: set[str] | None) -> None:
    """Remove the stages left by killed builds and (unless ``keep`` is None) the sets
    other than those kept: only folders the housekeeping recorded creating, never
    anything it did not make."""
    if not builds.is_dir() or builds.is_symlink():
        return
    for name in _made(builds):
        if name.startswith(".stage-"):
            pid = name.removeprefix(".stage-")
            with contextlib.suppress(OSError):
                if pid.isdigit() and scratch.alive(int(pid), os.lstat(builds / name).st_mtime):
                    continue
        elif keep is None or name in keep:
            continue
        _remove(builds, name)


def _remove(builds: Path, name: str) -> None:
    """Delete ``builds/name``, a folder the housekeeping made, and forget it. A link
    there is never followed (shutil.rmtree refuses one; its contents it only unlinks)."""
    path = builds / name
    if path.is_symlink():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()
    if not path.exists() and not path.is_symlink():
        remaining = [n for n in _made(builds) if n != name]
        if remaining != _made(builds):
            _record(builds, remaining)
