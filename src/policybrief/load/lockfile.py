"""``seeds/sources.lock``: the accepted state of every stored source, committed with them.

For each source the lock records its key, the path of its stored text, the text's
sha256, its passage count and the day it was added. Every build compares the sources
with it (see :mod:`policybrief.check.changes`); ``brief sources add`` adds to it and
``brief sources lock`` accepts the current state of all sources. The file is JSON with
sorted keys, a 2-space indent and a trailing newline, so that its diffs stay small.
The command that rewrites it as a whole is :mod:`policybrief.commands.lock`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import BriefError
from ..model import Project, Source

NAME = "sources.lock"
VERSION = 1


@dataclass(frozen=True)
class Locked:
    """One source as the lock remembers it."""

    key: str
    path: str
    sha256: str
    passages: int
    added: str

    def as_json(self) -> dict[str, object]:
        return {"key": self.key, "path": self.path, "sha256": self.sha256,
                "passages": self.passages, "added": self.added}


def lock_path(project: Project) -> Path:
    return project.seeds / NAME


def today(added: str | None = None) -> str:
    """``added`` if given (checked), else ``SOURCE_DATE_EPOCH``'s day (UTC), else today."""
    if added:
        try:
            return dt.date.fromisoformat(added).isoformat()
        except ValueError:
            raise BriefError(f"'{added}' is not a date (YYYY-MM-DD)", rule="sources.lock") from None
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date().isoformat()
    return dt.date.today().isoformat()


def record(key: str, source: Source, added: str) -> Locked:
    return Locked(key, source.path, source.sha256, len(source.passages), added)


def read(project: Project) -> dict[str, Locked] | None:
    """The locked sources by key, or None when there is no lock file yet."""
    path = lock_path(project)
    rel = project.rel(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BriefError(f"cannot read the lock file: {exc}", rel, 1, rule="sources.lock") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", 1)
        raise BriefError(f"the lock file is not valid JSON: {exc}", rel, line,
                         hint="restore it, or rewrite it with 'brief sources lock'",
                         rule="sources.lock") from None
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, dict):
        raise BriefError("the lock file has no 'sources' mapping", rel, 1,
                         hint="rewrite it with 'brief sources lock'", rule="sources.lock")
    found: dict[str, Locked] = {}
    for key, item in sources.items():
        try:
            found[key] = Locked(str(key), str(item["path"]), str(item["sha256"]),
                                int(item["passages"]), str(item["added"]))
        except (KeyError, TypeError, ValueError):
            raise BriefError(f"the lock entry for '{key}' is incomplete (it needs path, "
                             "sha256, passages and added)", rel, _line_of(text, key),
                             hint="rewrite it with 'brief sources lock'",
                             rule="sources.lock") from None
    return found


def _line_of(text: str, key: str) -> int:
    at = text.find(json.dumps(key))
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def dumps(locked: Mapping[str, Locked]) -> str:
    data = {"version": VERSION,
            "sources": {key: item.as_json() for key, item in locked.items()}}
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(project: Project, locked: Mapping[str, Locked]) -> bool:
    """Write the lock (atomically); False when its content would not change."""
    path = lock_path(project)
    text = dumps(locked)
    if path.is_file() and path.read_text("utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{NAME}.{os.getpid()}.tmp")
    temp.write_text(text, "utf-8")
    os.replace(temp, path)
    return True


def current(project: Project) -> dict[str, Source]:
    """Every source that the bibliography names and that can be read, by key."""
    from ..load import bibliography, seeds

    entries = bibliography.load_bibliography(project.bibliography,
                                             project.rel(project.bibliography))
    sources, findings = seeds.load_sources(project, entries)
    unreadable = [f for f in findings if f.severity == "error"
                  and f.rule in ("file.binary", "encoding", "source.unreadable")]
    if unreadable:
        from ..errors import ContentError

        raise ContentError(unreadable)
    return sources
