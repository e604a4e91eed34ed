"""The name style sheet, ``report/names.yaml``: one spelling per name.

Each entry gives the spelling the brief uses (``name``), the spellings it must not use
(``variants``) and other accepted forms (``aliases``, such as an abbreviation). The check
reports every variant found in the brief's own words (section files, ``brief.yaml``, the
figures' YAML) at its line, as the warning ``style.name-variant``. Quotations are left
alone: a quote is the source's spelling, copied verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .. import citations as cit
from .. import schemas
from ..model import Finding, Project
from . import frontmatter

SHEET = "names.yaml"
# the value of a `quote:` field in YAML (a structured citation's verbatim words)
_QUOTE_FIELD = re.compile(r"^(\s*(?:-\s+)?quote:\s*)(.*)$")
_FILES = ("brief.yaml", "timeline.yaml", "actors.yaml")


@dataclass(frozen=True)
class Variant:
    spelling: str
    name: str
    line: int  # in report/names.yaml

    @property
    def pattern(self) -> re.Pattern[str]:
        return _word(self.spelling)


def load(project: Project) -> tuple[list[Variant], list[str], list[Finding]]:
    """The variants of the sheet, the accepted spellings, and what is wrong with it."""
    path = project.report / SHEET
    if not path.is_file():
        return [], [], []
    rel = project.rel(path)
    doc = frontmatter.parse(path.read_text("utf-8"), rel)
    findings = schemas.validate(doc.data, doc.lines, rel, "names")
    if findings:
        return [], [], findings
    variants: list[Variant] = []
    accepted: list[str] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(doc.data["names"]):
        name = entry["name"]
        accepted += [name, *(entry.get("aliases") or [])]
        for j, spelling in enumerate(entry.get("variants") or []):
            line = doc.lines.get(f"names/{i}/variants/{j}", 1)
            if spelling in seen:
                findings.append(Finding("error", rel, line, f"variant '{spelling}' is listed "
                                        f"twice (first on line {seen[spelling]})",
                                        "list each variant under one name only",
                                        "style.names-sheet"))
                continue
            seen[spelling] = line
            variants.append(Variant(spelling, name, line))
    return variants, accepted, findings


def check(project: Project, section_paths: Iterable[str]) -> list[Finding]:
    """Every variant spelling in the brief's files, at its line."""
    variants, accepted, findings = load(project)
    if not variants:
        return findings
    sheet = project.rel(project.report / SHEET)
    # one pattern finds the lines with a variant; only those are looked at word by word
    # (the sheet's hundred patterns on every line took a tenth of a second)
    any_variant = _words(v.spelling for v in variants)
    keep: list[re.Pattern[str]] = []
    paths = [*section_paths, *(project.rel(project.report / n) for n in _FILES)]
    for rel in paths:
        file = project.root / rel
        if not file.is_file():
            continue
        text = _own_words(file.read_text("utf-8", errors="replace"))
        for number, row in enumerate(text.split("\n"), start=1):
            if not any_variant.search(row):
                continue
            keep = keep or [_word(a) for a in accepted]
            findings += _line_findings(row, number, rel, variants, keep, sheet)
    return findings


def _line_findings(row: str, number: int, rel: str, variants: list[Variant],
                   keep: list[re.Pattern[str]], sheet: str) -> list[Finding]:
    found = []
    taken = [m.span() for k in keep for m in k.finditer(row)]
    hits = sorted(((m.start(), m.end(), v) for v in variants for m in v.pattern.finditer(row)),
                  key=lambda h: (h[0], h[0] - h[1]))
    for start, end, v in hits:
        # inside an accepted spelling ("Badr" in "Badr Organization" is no variant), or
        # inside a longer variant already reported ("al-Kabi" in "Akram al-Kabi")
        if any(a <= start and end <= b for a, b in taken):
            continue
        taken.append((start, end))
        found.append(Finding("warning", rel, number,
                             f"'{v.spelling}' is a variant spelling of '{v.name}'",
                             f"write '{v.name}' ({sheet}:{v.line})", "style.name-variant",
                             col=start + 1))
    return found


def _word(spelling: str) -> re.Pattern[str]:
    return _words([spelling])


def _words(spellings: Iterable[str]) -> re.Pattern[str]:
    """Any of ``spellings`` as a whole word."""
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, spellings)) + r")(?!\w)")


def _own_words(text: str) -> str:
    """``text`` with quotations blanked (same lines and columns): citation groups in
    Markdown and the values of ``quote:`` fields."""
    def blank(m: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))

    text = cit.GROUP.sub(blank, text)
    rows = []
    for row in text.split("\n"):
        m = _QUOTE_FIELD.match(row)
        rows.append(m.group(1) + " " * len(m.group(2)) if m else row)
    return "\n".join(rows)
