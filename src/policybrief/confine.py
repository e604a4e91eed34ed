"""The one confinement rule: every path the pipeline reads or writes stays in the project.

A path is allowed when, resolved after every symbolic link, it lies inside one of the
project's own folders: ``seeds/``, ``assets/``, ``templates/``, ``report/``, ``build/``
(and the project's ``bibliography.bib``). The folders are taken as they sit in the
project's root, not followed: a ``seeds`` that is itself a link to somewhere else
confines nothing. A path the brief names (a bibliography entry's ``file``, the house
logo, an image, a section listed in ``brief.yaml``) that leaves them is an error at the
line that names it; a symbolic link inside the project's folders that points out of them
is an error at the link, before anything is read.

Keys and slugs that become file names (``build/sources/<key>.html``) are restricted to a
safe alphabet where they are read (:data:`KEY`): letters, digits, ``_``, and ``-``, ``.``
or ``:`` between them; never a ``/``, a ``\\`` or a dot segment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from .errors import BriefError
from .model import Finding, Project

FOLDERS = ("seeds", "assets", "templates", "report", "build")
FILES = ("bibliography.bib",)
INPUTS = ("seeds", "assets", "templates", "report")
KEY = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_]|[:.\-](?=[A-Za-z0-9_]))*$")
KEY_HINT = ("use letters, digits and '_', with '-', '.' or ':' between them "
            "(a key becomes a file name: no '/', '\\' or spaces)")
MAX_KEY = 100
# the largest file the build will read, by where it is (sources in seeds/ have their own
# limit, sources.py; the logo, house.py): checked with stat, before anything is read
LIMITS = {"report": 10 * 2**20, "bibliography.bib": 10 * 2**20, "templates": 50 * 2**20,
          "seeds": 50 * 2**20, "assets": 50 * 2**20}


def safe_key(key: str) -> bool:
    """True when ``key`` may become a file name (``sources/<key>.html``)."""
    return len(key) <= MAX_KEY and KEY.match(key) is not None


def roots(project: Project, folders: Iterable[str] = FOLDERS) -> list[Path]:
    """The allowed folders: the project's root resolved, the folder's name not followed."""
    base = project.root.resolve()
    return [base / name for name in folders]


def inside(project: Project, given: str | Path, folders: Iterable[str] = FOLDERS
           ) -> Path | None:
    """The resolved path of ``given`` (relative to the project's root, or absolute) when it
    lies inside one of ``folders``; else None."""
    text = str(given)
    if not text or "\0" in text:
        return None
    try:
        path = (project.root / text).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    for root in roots(project, folders):
        if path == root or path.is_relative_to(root):
            return path
    return None


def require(project: Project, given: str | Path, folders: Iterable[str], where: str,
            line: int, what: str) -> Path:
    """``inside``, or a BriefError at ``where``:``line``."""
    folders = tuple(folders)
    path = inside(project, given, folders)
    if path is None:
        names = ", ".join(f"{f}/" for f in folders)
        raise BriefError(f"{what} '{given}' is outside the project's {names}", where, line,
                         hint=f"keep the file inside the project's {names} (a symbolic "
                              "link may not point out of them)")
    return path


def escaping_links(project: Project, folders: Iterable[str] = INPUTS,
                   files: Iterable[str] = FILES) -> list[Finding]:
    """A finding for every symbolic link under ``folders`` (or among ``files``) that
    resolves outside the project's folders, or to nothing (a dangling link, which a write
    would follow). The folders themselves count: ``seeds`` linked elsewhere is refused."""
    found: list[Finding] = []
    root = project.root

    def judge(path: Path) -> None:
        rel = path.relative_to(root).as_posix()
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        resolved = inside(project, path)
        if resolved is None:
            found.append(Finding("error", rel, 1, f"a symbolic link to '{target}', outside "
                                 "the project's folders", "replace the link with a copy of "
                                 "the file", "confine.symlink"))
        elif not resolved.exists():
            found.append(Finding("error", rel, 1, f"a symbolic link to '{target}', which "
                                 "does not exist", "remove the link", "confine.symlink"))

    def size(path: Path, top: str) -> None:
        limit = LIMITS.get(top)
        try:
            st = path.stat()
        except OSError:
            return
        if limit is not None and st.st_size > limit and path.is_file():
            found.append(Finding("error", path.relative_to(root).as_posix(), 1,
                                 f"the file is {st.st_size / 2**20:.1f} MB; the limit is "
                                 f"{limit / 2**20:g} MB", "keep only the text the brief "
                                 "needs", "confine.size"))

    for name in files:
        if (root / name).is_symlink():
            judge(root / name)
        size(root / name, name)
    for name in folders:
        top = root / name
        if top.is_symlink():
            judge(top)
            continue
        if not top.is_dir():
            continue
        for folder, dirs, names in os.walk(top):
            for entry in sorted(dirs + names):
                path = Path(folder, entry)
                if path.is_symlink():
                    judge(path)
                elif entry in names:
                    size(path, name)
    return found


def check_tree(project: Project, folders: Iterable[str] = INPUTS,
               files: Iterable[str] = FILES) -> None:
    """Raise ContentError when a link in the project's folders points out of them."""
    from .errors import ContentError

    found = escaping_links(project, folders, files)
    if found:
        raise ContentError(found)


def write_new(path: Path, data: bytes) -> None:
    """Create ``path`` with ``data``: never through a symbolic link, never over a file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
    finally:
        if fd >= 0:
            os.close(fd)
