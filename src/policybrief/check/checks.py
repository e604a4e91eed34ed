"""Stage 4, check: every citation against the bibliography and the source text itself.

The checks only collect findings (errors and warnings, each with a rule name, written
down in docs/checks.md); the pipeline decides whether they stop the build.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .. import citations as cit
from .. import schemas
from ..model import Citation, Entry, Finding, QuoteMatch, Section, Source
from .quotes import QuoteIndex

FENCE = re.compile(r"^\s*:::")  # a line opening or closing a fenced div
# Kinds whose substance rests on other sections (recommendations on key judgments,
# named in rests_on), so that neither they nor their paragraphs need citations.
UNCITED_KINDS = frozenset({"recommendations"})


@dataclass(frozen=True)
class Evidence:
    """What the checks established about the citations (read-only once made)."""

    matches: Mapping[Citation, QuoteMatch] = field(default_factory=dict)
    locators: Mapping[Citation, str] = field(default_factory=dict)
    fixes: Mapping[Citation, str] = field(default_factory=dict)  # wrong locator → right one
    findings: tuple[Finding, ...] = ()


@dataclass
class _Found:
    """What the checks find as they go, made into Evidence at the end."""

    matches: dict[Citation, QuoteMatch] = field(default_factory=dict)
    locators: dict[Citation, str] = field(default_factory=dict)
    fixes: dict[Citation, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def check_citations(sections: tuple[Section, ...], entries: Mapping[str, Entry],
                    sources: Mapping[str, Source], extra: Iterable[Citation] = ()) -> Evidence:
    """Every citation of the sections, and ``extra`` ones (the figures')."""
    index = QuoteIndex(sources)
    found = _Found()
    lower = {k.lower(): k for k in entries}
    for c in [*(c for s in sections for c in s.citations), *extra]:
        _check_one(c, entries, sources, index, lower, found)
    return Evidence(found.matches, found.locators, found.fixes, tuple(found.findings))


def _check_one(c: Citation, entries: Mapping[str, Entry], sources: Mapping[str, Source],
               index: QuoteIndex, lower: Mapping[str, str], evidence: _Found) -> None:
    add = evidence.findings.append
    if c.key not in entries:
        hint = schemas.suggest(c.key, entries)
        if c.key.lower() in lower:
            hint = f"keys are case-sensitive: did you mean '{lower[c.key.lower()]}'?"
        add(Finding("error", c.path, c.key_line or c.line, f"unknown citation key '{c.key}'",
                    hint or "add the source with 'brief sources add', or fix the key",
                    "citation.unknown-key", key=c.key))
        return
    source = sources.get(c.key)
    number = cit.paragraph_number(c.locator)
    if c.locator and number is None:
        add(Finding("warning", c.path, c.line,
                    f"locator '{c.locator}' of '{c.key}' cannot be checked against the source",
                    "give the paragraph as ¶ N (see the source page), or leave it out and "
                    "quote the passage", "citation.unchecked-locator"))
    if source is None:
        if c.quote:
            add(Finding("warning", c.path, c.line,
                        f"the quote cannot be verified: '{c.key}' has no stored source text",
                        "add a file field pointing into seeds/ to its bibliography entry",
                        "quote.no-source", key=c.key, quote=c.quote))
        return
    if number is not None and source.passage(number) is None:
        add(Finding("error", c.path, c.line,
                    f"'{c.key}' has no ¶ {number}: it has {len(source.passages)} paragraphs",
                    "fix the number, or quote the passage and leave the locator out",
                    "locator.missing-paragraph", key=c.key, quote=c.quote or "",
                    passage=f"¶ {number}"))
        return
    if not c.quote:
        if number is None and not c.locator:
            add(Finding("warning", c.path, c.line,
                        f"citation of '{c.key}' has neither a locator nor a quote",
                        f"add a verbatim quote: [@{c.key}, quote \"…\"]", "citation.bare"))
        elif c.locator:
            evidence.locators[c] = c.locator
        return
    match = index.find(c.key, c.quote)
    if match is None:
        near = index.closest(c.key, c.quote)
        hint = ""
        if near is not None:
            hint = (f"did you mean “{_excerpt(near.passage.text, c.quote)}” "
                    f"(¶ {near.passage.number}, {round(near.similarity * 100)}%)?")
        add(Finding("error", c.path, c.line,
                    f"quote not found in '{c.key}': “{_short(c.quote)}”", hint, "quote.not-found",
                    key=c.key, quote=c.quote))
        return
    evidence.matches[c] = match
    found = f"¶ {match.passage.number}"
    evidence.locators[c] = found
    if number is not None and number != match.passage.number:
        evidence.fixes[c] = found
        add(Finding("error", c.path, c.line,
                    f"locator ¶ {number} of '{c.key}' does not match the quote, which is in "
                    f"{found}", "run 'brief check --fix-locators' to correct it",
                    "locator.mismatch", key=c.key, quote=c.quote, passage=found))


def check_coverage(sections: tuple[Section, ...], entries: Mapping[str, Entry],
                   bib_path: str, extra: Iterable[Citation] = ()) -> list[Finding]:
    """Entries nothing cites; sections and analysis paragraphs with no citation."""
    findings = []
    cited = {c.key for s in sections for c in s.citations} | {c.key for c in extra}
    for key, entry in entries.items():
        if key not in cited:
            findings.append(Finding("warning", bib_path, entry.line,
                                    f"'{key}' is in the bibliography but nothing cites it",
                                    "cite it or remove the entry", "bibliography.uncited"))
    for section in sections:
        if section.kind in UNCITED_KINDS:
            continue
        if not section.citations:
            findings.append(Finding("warning", section.path, section.line,
                                    f"section '{section.title}' cites no source",
                                    "cite what it rests on: [@key, quote \"…\"]",
                                    "section.uncited"))
        for line, paragraph in paragraphs(section.body, section.body_line):
            cites, _ = cit.parse(paragraph)
            if not cites:
                findings.append(Finding("warning", section.path, line,
                                        "this paragraph of analysis carries no citation",
                                        "add a citation with a quote, or mark it as the "
                                        "brief's own judgment and cite what it rests on",
                                        "paragraph.uncited"))
    return findings


def paragraphs(body: str, first_line: int) -> list[tuple[int, str]]:
    """The prose paragraphs of a Markdown body with their lines (no headings, fences)."""
    out = []
    line = first_line
    for block in body.split("\n\n"):
        # A fenced div's fence lines (``::: own`` … ``:::``, a paragraph of the brief's
        # own judgment) are not text: the paragraph inside is checked like any other.
        rows = block.split("\n")
        start = 0
        while start < len(rows) and (not rows[start].strip() or FENCE.match(rows[start])):
            start += 1
        end = len(rows)
        while end > start and (not rows[end - 1].strip() or FENCE.match(rows[end - 1])):
            end -= 1
        stripped = "\n".join(rows[start:end]).strip()
        skip = (not stripped or stripped.startswith(("#", "```", "|", "<!--"))
                or stripped == "---")
        if not skip:
            out.append((line + start, stripped))
        line += block.count("\n") + 2
    return out


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def _excerpt(passage: str, quote: str) -> str:
    """The part of ``passage`` most like ``quote``, as long as the quote."""
    from rapidfuzz import fuzz

    alignment = fuzz.partial_ratio_alignment(quote.lower(), passage.lower())
    if alignment is None:
        return _short(passage)
    start, end = alignment.dest_start, alignment.dest_end
    while start > 0 and not passage[start - 1].isspace():
        start -= 1
    while end < len(passage) and not passage[end].isspace():
        end += 1
    return _short(passage[start:end].strip(" ,;:"))
