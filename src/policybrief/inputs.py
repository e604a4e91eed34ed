"""The inputs of a build as one fingerprint, and the record of the last build made from them.

A rebuild with nothing changed should cost a glance, not a second load of every source.
Every file a build reads lives in ``report/``, ``templates/``, ``seeds/``, ``assets/`` or
``bibliography.bib`` (or is a source file a bibliography entry names, remembered as an
extra); together with the package's own templates, the version, the options that change
the outputs and the source date, their contents make the fingerprint. After each build,
``build/.inputs.json`` records the fingerprint, the content hash of each output made
from those inputs, and what the checks said. A build whose fingerprint matches the
record, and whose outputs are still the ones recorded, replays the findings and stops
there; anything else takes the whole path.

Files are hashed by content; a file whose size, modification time and inode are those
recorded reuses its recorded hash, as git's index does (a time is recorded only when it
was old enough, at hashing, that a second write within the same clock tick cannot hide).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, confine
from .model import Finding, Project

NAME = ".inputs.json"
ROOTS = ("report", "templates", "seeds", "assets", "bibliography.bib")
SETTLED_NS = 2_000_000_000  # a file this much older than its hashing keeps its hash


@dataclass(frozen=True)
class Record:
    """What the last build was made from, what it made, and what its checks said."""

    fingerprint: str
    outputs: Mapping[str, str]  # output name → content hash of its inputs
    changes: str  # sha256 of build/changes.md when the build ended, or ""
    findings: tuple[Finding, ...]
    notice: str  # the sources-changed report printed before the findings, or ""
    extras: tuple[str, ...]  # files read outside ROOTS (relative to the root)
    files: Mapping[str, tuple[int, int, int, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Scan:
    fingerprint: str
    files: Mapping[str, tuple[int, int, int, str]]  # path → size, mtime_ns, inode, sha256
    # path → size, mtime_ns, ctime_ns, inode as found (ctime: no write can keep it)
    stamps: Mapping[str, tuple[int, int, int, int]] = field(default_factory=dict)
    extras: tuple[str, ...] = ()
    at: int = 0  # time.time_ns() when the scan began


def _walk(project: Project, extras: Iterable[str]) -> list[tuple[str, Path]]:
    """Every input file, as (name in the fingerprint, path), in a stable order."""
    found: list[tuple[str, Path]] = []
    roots = [(name, project.root / name) for name in ROOTS]
    roots.append(("<package>", Path(__file__).parent / "templates"))
    for name, top in roots:
        if top.is_file():
            found.append((name, top))
        elif top.is_dir():
            for folder, dirs, names in os.walk(top):
                dirs.sort()
                for file in sorted(names):
                    path = Path(folder, file)
                    found.append((f"{name}/{path.relative_to(top).as_posix()}", path))
    found += [(f"<extra>/{rel}", project.root / rel) for rel in sorted(set(extras))]
    return found


def scan(project: Project, salt: str, known: Record | None = None) -> Scan:
    """The fingerprint of every input file, with ``salt`` (options, source date) mixed in.

    The files are those under ROOTS and the extras ``known`` (the last record) names.
    """
    cached = known.files if known is not None else {}
    extras = known.extras if known is not None else ()
    total = hashlib.sha256(f"{__version__}\0{salt}\0".encode())
    files: dict[str, tuple[int, int, int, str]] = {}
    stamps: dict[str, tuple[int, int, int, int]] = {}
    now = time.time_ns()
    for name, path in _walk(project, extras):
        try:
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                if confine.inside(project, path) is None:
                    # never read through a link out of the project (the build refuses
                    # it); its target is what the fingerprint knows of it
                    total.update(f"{name}\0link\0{os.readlink(path)}\0".encode())
                    continue
                st = path.stat()
        except OSError:
            total.update(f"{name}\0missing\0".encode())
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        if st.st_size > confine.LIMITS.get(name.split("/")[0], st.st_size):
            # never read: the load refuses it at once (confine.py)
            total.update(f"{name}\0large\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
            continue
        stamps[name] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        old = cached.get(name)
        if old is not None and old[:3] == (st.st_size, st.st_mtime_ns, st.st_ino):
            digest = old[3]
        else:
            try:
                digest = _hash(path)
            except OSError:
                total.update(f"{name}\0unreadable\0".encode())
                continue
        # a file written just now could change again within the same clock tick, keeping
        # its size and time: its hash is recorded, but never reused
        settled = now - st.st_mtime_ns > SETTLED_NS
        files[name] = (st.st_size, st.st_mtime_ns if settled else -1, st.st_ino, digest)
        total.update(f"{name}\0{digest}\0".encode())
    return Scan(total.hexdigest(), files, stamps, tuple(extras), now)


def _hash(path: Path) -> str:
    """sha256 of the file's bytes, read in blocks (a huge file costs time, not memory;
    the load refuses it, confine.py)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


QUIET_NS = 20_000_000  # a file changed this close to the scan (a clock tick or two)
# may change again unseen: its change time need not move


def still(project: Project, scanned: Scan) -> bool:
    """True when no input file has changed since ``scanned`` was taken: the same files,
    each with the same size, modification and change times and inode. The change time
    moves on every write, even one that puts the old bytes and time back, so a file
    saved and restored during the build is seen. A file changed just before the scan
    (within a clock tick or two, when a later write may keep its change time) is read
    again and compared by content."""
    seen: dict[str, tuple[int, int, int, int]] = {}
    paths: dict[str, Path] = {}
    for name, path in _walk(project, scanned.extras):
        try:
            if path.is_symlink() and confine.inside(project, path) is None:
                continue
            st = path.stat()
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            seen[name] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            paths[name] = path
    if seen != dict(scanned.stamps):
        return False
    for name, stamp in seen.items():
        if scanned.at - stamp[2] <= QUIET_NS:
            try:
                digest = _hash(paths[name])
            except OSError:
                return False
            if digest != scanned.files[name][3]:
                return False
    return True


def digest_of(scanned: Scan, *prefixes: str) -> str:
    """One hash of the scanned files whose names start with one of ``prefixes``."""
    total = hashlib.sha256()
    for name in sorted(scanned.files):
        if name.startswith(prefixes):
            total.update(f"{name}\0{scanned.files[name][3]}\0".encode())
    return total.hexdigest()


def extras(project: Project, named: Iterable[Path]) -> tuple[str, ...]:
    """The files among ``named`` (source files the entries point at) outside ROOTS."""
    root = project.root.resolve()
    tops = [(root / name).resolve() for name in ROOTS]
    out = set()
    for path in named:
        path = path.resolve()
        if not path.is_relative_to(root) or any(
                path == top or path.is_relative_to(top) for top in tops):
            continue
        out.add(path.relative_to(root).as_posix())
    return tuple(sorted(out))


def read(build: Path) -> Record | None:
    try:
        data = json.loads((build / NAME).read_text("utf-8"))
        return Record(
            fingerprint=str(data["fingerprint"]),
            outputs={str(k): str(v) for k, v in data["outputs"].items()},
            changes=str(data["changes"]),
            findings=tuple(Finding(*item) for item in data["findings"]),
            notice=str(data["notice"]),
            extras=tuple(str(e) for e in data["extras"]),
            files={str(k): (int(v[0]), int(v[1]), int(v[2]), str(v[3]))
                   for k, v in data["files"].items()})
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def write(build: Path, record: Record) -> None:
    """Replace the record in one rename (a reader sees the old one or the new one)."""
    data: dict[str, Any] = {
        "fingerprint": record.fingerprint, "outputs": dict(record.outputs),
        "changes": record.changes, "notice": record.notice, "extras": list(record.extras),
        "findings": [[f.severity, f.path, f.line, f.message, f.hint, f.rule, f.col, f.shown]
                     for f in record.findings],
        "files": {k: list(v) for k, v in record.files.items()}}
    temp = build / f".{NAME}.{os.getpid()}"
    temp.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True), "utf-8")
    os.replace(temp, build / NAME)


def changes_digest(build: Path) -> str:
    """sha256 of ``build/changes.md`` as it is now, or "" when there is none."""
    try:
        return hashlib.sha256((build / "changes.md").read_bytes()).hexdigest()
    except OSError:
        return ""
