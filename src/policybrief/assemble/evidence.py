"""The evidence appendix: every claim with its source, locator and quote, and coverage.

The same rows go into every format (they are rendered into the assembled Markdown), so
the PDF, the HTML and the DOCX list the same evidence in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .. import citations as cit
from ..check import checks
from ..model import Brief, Citation, Entry, Section


@dataclass(frozen=True)
class Row:
    claim: str
    source: str
    locator: str
    quote: str
    verified: bool
    # which numbers and names of the claim were found in which passage, and which of
    # its sentences are the brief's own (claims.check), on the claim's first row
    checked: str = ""


@dataclass(frozen=True)
class Group:
    title: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Coverage:
    paragraphs: int
    cited_paragraphs: int
    citations: int
    verified: int
    sources: int
    cited_sources: int

    def line(self) -> str:
        return (f"{self.cited_paragraphs} of {self.paragraphs} analysis paragraphs carry a "
                f"citation; {self.verified} of {self.citations} citations carry a verified "
                f"quote; {self.cited_sources} of {self.sources} sources are cited.")


def short_label(entry: Entry) -> str:
    """``Rasanah (2024)`` from the entry's author and date, for tables and reports."""
    author = entry.fields.get("author", entry.key).strip("{} ")
    author = author.split(" – ")[0].split(" - ")[0].split(",")[0].strip()
    author = author.removesuffix(" contributors").strip() or entry.key
    year = (entry.fields.get("date") or entry.fields.get("year") or "")[:4]
    return f"{author} ({year})" if year else f"{author} (n.d.)"


def analysis_paragraphs(section: Section) -> list[tuple[str, bool]]:
    """Each paragraph of analysis in a section, and whether it carries a citation."""
    if section.kind in checks.UNCITED_KINDS:
        return []
    found = [(text, bool(cit.parse(text)[0]))
             for _, text in checks.paragraphs(section.body, section.body_line)]
    for name in ("items", "judgments", "scenarios"):
        for item in section.fields.get(name, []) or []:
            text = item.get("text") or item.get("narrative") or ""
            found.append((text, bool(item.get("citations")) or bool(cit.parse(text)[0])))
    return found


def appendix(brief: Brief, locators: dict[Citation, str],
             extra: Iterable[Citation] = ()) -> tuple[list[Group], Coverage]:
    """The appendix rows grouped by section (and figures), and the coverage figures."""
    groups: list[Group] = []
    by_section: dict[str, list[Citation]] = {}
    for c in (*brief.citations, *extra):
        by_section.setdefault(c.where.split(" › ")[0], []).append(c)
    for title, cites in by_section.items():
        rows = []
        previous = None
        for c in cites:
            entry = brief.entries.get(c.key)
            label = short_label(entry) if entry else c.key
            # A claim resting on several quotes is written once, on its first row.
            claim = _trim(c.claim) if c.claim != previous else ""
            checked = brief.claim_notes.get(c, "") if claim else ""
            previous = c.claim
            rows.append(Row(claim, label, locators.get(c, c.locator or ""),
                            c.quote or "", c in brief.matches, checked))
        groups.append(Group(title, tuple(rows)))
    paragraphs = [p for s in brief.sections for p in analysis_paragraphs(s)]
    cited = {c.key for c in brief.citations}
    coverage = Coverage(len(paragraphs), sum(1 for _, ok in paragraphs if ok),
                        len(brief.citations), sum(1 for c in brief.citations
                                                  if c in brief.matches),
                        len(brief.entries), len(cited & set(brief.entries)))
    return groups, coverage


def _trim(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"
