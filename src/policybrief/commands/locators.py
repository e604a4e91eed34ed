"""``brief check --fix-locators``: correct wrong ``¶ N`` locators in the section files.

The checks know, for every quote they found, the paragraph it is really in. This module
rewrites only the locator of each wrong citation, in place, leaving every other byte of
the file as it was: in body text the citation item is rewritten; in a structured
``citations`` list the ``locator:`` line is replaced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from .. import citations as cit
from ..model import Citation


def fix(root: Path, fixes: Mapping[Citation, str]) -> list[tuple[Citation, str]]:
    """Apply ``fixes`` (citation → right locator); return what was changed."""
    done: list[tuple[Citation, str]] = []
    by_file: dict[str, list[tuple[Citation, str]]] = {}
    for citation, locator in fixes.items():
        by_file.setdefault(citation.path, []).append((citation, locator))
    for rel, items in by_file.items():
        path = root / rel
        lines = path.read_text("utf-8").split("\n")
        for citation, locator in items:
            index = citation.line - 1
            if not 0 <= index < len(lines):
                continue
            if citation.field:
                changed = _fix_field(lines, index, locator)
            else:
                changed = _fix_inline(lines, index, citation, locator)
            if changed:
                done.append((citation, locator))
        path.write_text("\n".join(lines), "utf-8")
    return done


def _fix_field(lines: list[str], index: int, locator: str) -> bool:
    """The ``locator:`` line of the citation whose ``quote:`` is on line ``index``."""
    indent = len(lines[index]) - len(lines[index].lstrip(" -"))
    start = index
    while start > 0 and not lines[start].lstrip().startswith("- "):
        start -= 1
    end = index
    while end + 1 < len(lines) and lines[end + 1].startswith(" " * indent) \
            and not lines[end + 1].lstrip().startswith("- "):
        end += 1
    for i in range(start, end + 1):
        match = re.match(r"^(\s*-?\s*locator:\s*).*$", lines[i])
        if match:
            lines[i] = f'{match.group(1)}"{locator}"'
            return True
    return False


def _fix_inline(lines: list[str], index: int, citation: Citation, locator: str) -> bool:
    text = lines[index]
    for group in cit.GROUP.finditer(text):
        body = group.group("body")
        new_items = []
        changed = False
        for _, item in cit.split_items(body):
            try:
                cite = cit.parse_item(item, 0)
            except cit.SyntaxProblem:
                new_items.append(item)
                continue
            if cite.key == citation.key and cite.quote == citation.quote \
                    and cite.locator == citation.locator:
                lead = item[: len(item) - len(item.lstrip())]
                new_items.append(lead + cit.format_cite(cite.key, locator, cite.quote)
                                 .replace("@", ("-@" if cite.suppress else "@"), 1)
                                 if not cite.prefix else
                                 lead + cite.prefix + " "
                                 + cit.format_cite(cite.key, locator, cite.quote))
                changed = True
            else:
                new_items.append(item)
        if changed:
            lines[index] = text[: group.start("body")] + ";".join(new_items) \
                + text[group.end("body"):]
            return True
    return False
