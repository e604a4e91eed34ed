"""The stored sources: the copy in ``seeds/`` that each bibliography entry names.

In: the project and its bibliography entries. Out: each readable source by key, and
findings for an entry whose file is missing and for a file in ``seeds/`` that no entry
names. ``brief sources lock`` and every build read the sources through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import confine
from ..errors import BriefError
from ..model import Entry, Finding, Project, Source
from .sources import read_source


def load_sources(project: Project, entries: Mapping[str, object]) -> tuple[
        dict[str, Source], list[Finding]]:
    """The stored copy of every bibliography entry that names one (``file`` field)."""
    found: dict[str, Source] = {}
    findings: list[Finding] = []
    named = {path.resolve() for path in named_files(project, entries)}
    for key, entry in entries.items():
        assert isinstance(entry, Entry)
        if not entry.file:
            continue
        path = project.root / entry.file
        line = entry.line + entry.lines.get("file", 0)
        if confine.inside(project, entry.file, ("seeds",)) is None:
            findings.append(Finding("error", entry.path, line,
                                    f"'{key}' points at '{entry.file}', which is outside "
                                    "the project's seeds/", "store the source in seeds/ "
                                    "(brief sources add does) and name it there; a symbolic "
                                    "link may not point out of seeds/", "source.outside"))
            continue
        original = entry.fields.get("original")
        if original and confine.inside(project, original, ("seeds",)) is None:
            findings.append(Finding("error", entry.path, entry.line + entry.lines.get(
                "original", 0), f"'{key}' names the original '{original}', which is "
                "outside the project's seeds/", "keep the original in seeds/",
                "source.outside"))
            continue
        if not path.is_file():
            findings.append(Finding("error", entry.path, entry.line,
                                    f"'{key}' points at '{entry.file}', which does not exist",
                                    "fix the file field, or restore the source into seeds/",
                                    "source.missing", key=key))
            continue
        try:
            found[key] = read_source(path, project.rel(path))
        except BriefError as exc:  # reported with every other source's problem
            findings.append(exc.finding())
    if project.seeds.is_dir():
        for path in sorted(project.seeds.iterdir()):
            if path.suffix in (".md", ".txt", ".html", ".pdf") and path.resolve() not in named \
                    and not path.name.startswith(("SOURCES", "README", ".")) \
                    and not path.name.endswith(".extracted.txt"):
                findings.append(Finding("warning", project.rel(path), 1,
                                        "this source has no bibliography entry",
                                        "add one with 'brief sources add', or give an "
                                        "entry a file field pointing here",
                                        "source.no-entry"))
    return found, findings


def named_files(project: Project, entries: Mapping[str, Any]) -> list[Path]:
    """The stored copy each entry names (``file``), and the .html/.pdf it came from."""
    paths = []
    for entry in entries.values():
        if entry.file:
            paths.append(project.root / entry.file)
            if entry.fields.get("original"):
                paths.append(project.root / entry.fields["original"])
    return paths
