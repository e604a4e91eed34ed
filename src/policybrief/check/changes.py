"""The "sources changed" report: the sources now, compared with ``seeds/sources.lock``.

- a **new** source (not in the lock, or in it but not cited yet): the sentences of the
  brief it bears on most (:mod:`policybrief.ranking`);
- a **changed** source (another sha256): quotes that moved to another ¶ (the build uses
  the new locator; ``brief check --fix-locators`` writes it) and quotes that vanished,
  with the claim and the file:line that depend on them and the passage now closest;
- a **removed** source (its entry or its file is gone): every citation that points
  nowhere now.

Vanished evidence is an error naming the claim, unless ``--allow-stale``: then it is a
warning and those citations are marked unverified in every format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .. import citations as cit
from ..model import Citation, Finding, NearMiss, Section, Severity, Source
from .checks import _excerpt
from .quotes import QuoteIndex

if TYPE_CHECKING:
    from ..load.lockfile import Locked
    from .checked import Checked

NAME = "changes.md"


@dataclass(frozen=True)
class Pair:
    """A sentence of the brief and a passage of a new source that bear on each other
    (see :mod:`policybrief.ranking` for the score)."""

    score: float
    section: str
    paragraph: str  # the brief's sentence
    number: int
    passage: str
    path: str = ""
    line: int = 0
    shared: tuple[str, ...] = ()


@dataclass(frozen=True)
class New:
    key: str
    path: str
    locked: bool
    cited: int
    pairs: tuple[Pair, ...]


@dataclass(frozen=True)
class Moved:
    citation: Citation
    old: str
    new: str


@dataclass(frozen=True)
class Gone:
    """A citation whose quote (or ¶) is no longer in its changed source, and the passage
    now closest to the quote (as ``quote.not-found`` reports it)."""

    citation: Citation
    near: NearMiss | None = None

    def did_you_mean(self) -> str:
        if self.near is None or not self.citation.quote:
            return ""
        return (f"did you mean “{_excerpt(self.near.passage.text, self.citation.quote)}” "
                f"(¶ {self.near.passage.number}, {round(self.near.similarity * 100)}%)?")


@dataclass(frozen=True)
class Changed:
    key: str
    path: str
    rechecked: int
    moved: tuple[Moved, ...]
    vanished: tuple[Gone, ...]


@dataclass(frozen=True)
class Removed:
    key: str
    path: str
    why: str  # "entry" or "file"
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class Report:
    new: tuple[New, ...] = ()
    changed: tuple[Changed, ...] = ()
    removed: tuple[Removed, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.new or self.changed or self.removed)

    @property
    def stale(self) -> frozenset[Citation]:
        """Citations whose evidence is gone: marked unverified under --allow-stale."""
        gone = [g.citation for ch in self.changed for g in ch.vanished]
        gone += [c for r in self.removed if r.why == "file" for c in r.citations]
        return frozenset(gone)

    def text(self) -> str:
        """The short report printed on stderr. What is also a finding (a vanished quote,
        a citation of a removed source) is counted here and printed once, as the finding."""
        return "\n".join(_lines(self, markdown=False))

    def markdown(self) -> str:
        """``build/changes.md``."""
        head = ["# Sources changed", "", "Compared with `seeds/sources.lock`.", ""]
        if self.empty:
            return "\n".join([*head, "No source changed.", ""])
        return "\n".join([*head, *_lines(self, markdown=True), ""])


# --- similarity ----------------------------------------------------------------------


def rank(source: Source, sections: Iterable[Section], limit: int = 5) -> list[Pair]:
    """The ``limit`` (brief sentence, source passage) pairs most alike, best first."""
    from . import ranking

    return [Pair(h.score, h.claim.section, h.claim.text, h.passage.number, h.passage.text,
                 h.claim.path, h.claim.line, h.shared)
            for h in ranking.rank(source, sections, limit)]


# --- comparing -----------------------------------------------------------------------


def compare(checked: Checked, locked: Mapping[str, Locked]) -> Report:
    """What differs between the sources as loaded and as locked."""
    brief, evidence = checked.brief, checked.evidence
    by_key: dict[str, list[Citation]] = {}
    for c in brief.citations:
        by_key.setdefault(c.key, []).append(c)
    new, changed, removed = [], [], []
    index = QuoteIndex(brief.sources)
    for key, source in sorted(brief.sources.items()):
        cites = by_key.get(key, [])
        if key not in locked or not cites:
            pairs = tuple(rank(source, brief.sections)) if not cites else ()
            new.append(New(key, source.path, key in locked, len(cites), pairs))
        if key not in locked or locked[key].sha256 == source.sha256:
            continue
        moved = tuple(Moved(c, c.locator or "", evidence.fixes[c]) for c in cites
                      if c in evidence.fixes)
        vanished = tuple(Gone(c, index.closest(key, c.quote) if c.quote else None)
                         for c in cites if _vanished(c, source, checked))
        changed.append(Changed(key, source.path, len(cites), moved, vanished))
    for key, item in sorted(locked.items()):
        if key not in brief.sources:
            why = "file" if key in brief.entries and brief.entries[key].file else "entry"
            removed.append(Removed(key, item.path, why, tuple(by_key.get(key, []))))
    return Report(tuple(new), tuple(changed), tuple(removed))


def _vanished(c: Citation, source: Source, checked: Checked) -> bool:
    if c.quote:
        return c not in checked.evidence.matches
    number = cit.paragraph_number(c.locator)
    return number is not None and source.passage(number) is None


def reconcile(checked: Checked, allow_stale: bool = False) -> Checked:
    """The checked brief with the report attached and its findings adjusted.

    A changed source's moved quotes are not errors (the output uses the new locator);
    its vanished quotes become errors naming the claim, or warnings with ``allow_stale``;
    so do the citations of a source whose file is gone.
    """
    from ..load import lockfile

    locked = lockfile.read(checked.brief.project)
    if locked is None:
        return checked
    report = compare(checked, locked)
    severity: Severity = "warning" if allow_stale else "error"
    drop: set[tuple[str, str, int, str]] = set()
    added: list[Finding] = []
    # the hint fits the options in use: under --allow-stale, that flag is no remedy
    remedy = ("quote the new text or restore the source" if allow_stale else
              "quote the new text, restore the source, or build with --allow-stale")
    for ch in report.changed:
        for m in ch.moved:
            drop.add(("locator.mismatch", m.citation.path, m.citation.line, ch.key))
        for gone in ch.vanished:
            c = gone.citation
            drop.update((rule, c.path, c.line, ch.key)
                        for rule in ("quote.not-found", "locator.missing-paragraph"))
            what = f"the quote “{_short(c.quote, 60)}”" if c.quote else f"{c.locator}"
            hint = f"{remedy}; then run 'brief sources lock'"
            if gone.did_you_mean():
                hint = f"{gone.did_you_mean()} {hint}"
            added.append(Finding(severity, c.path, c.line,
                                 f"{what} is gone from the changed source '{ch.key}': the "
                                 f"claim “{_short(c.claim, 70)}” ({c.where}) rests on it",
                                 hint, "source.vanished", key=ch.key, quote=c.quote or ""))
    for r in report.removed:
        if r.why != "file":
            continue
        drop.add(("source.missing", "", 0, r.key))
        for c in r.citations:
            drop.add(("quote.no-source", c.path, c.line, r.key))
            added.append(Finding(severity, c.path, c.line,
                                 f"the source of '{r.key}' was removed ({r.path}): the "
                                 f"claim “{_short(c.claim, 70)}” ({c.where}) cites it",
                                 "restore the file" + ("" if allow_stale else ", or build "
                                 "with --allow-stale") + "; then run 'brief sources lock'",
                                 "source.removed", key=r.key, quote=c.quote or ""))
    kept = []
    for f in checked.findings:
        if (f.rule, f.path, f.line, f.key) in drop:
            continue
        if f.rule == "source.missing" and ("source.missing", "", 0, f.key) in drop:
            f = replace(f, severity=severity)
        kept.append(f)
    findings = sorted([*kept, *added], key=lambda f: (f.severity != "error", f.path, f.line))
    return replace(checked, findings=tuple(findings), changes=report)


def pending(build: Path, report: Report | None) -> dict[str, bytes]:
    """``{"changes.md": …}`` when the report differs from the one in ``build``."""
    if report is None:
        return {}
    data = report.markdown().encode("utf-8")
    target = build / NAME
    if target.is_file() and target.read_bytes() == data:
        return {}
    return {NAME: data}


# --- writing -------------------------------------------------------------------------


def _short(text: str | None, limit: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _lines(report: Report, markdown: bool) -> list[str]:
    out: list[str] = [] if markdown else ["sources changed since seeds/sources.lock:"]
    item = "- " if markdown else "    "
    code = "`" if markdown else "'"

    def head(kind: str, key: str, rest: str) -> None:
        if markdown:
            out.extend([f"## {kind.capitalize()}: `{key}`", "", rest, ""] if rest
                       else [f"## {kind.capitalize()}: `{key}`", ""])
        else:
            out.append(f"  {kind}: {key} — {rest}" if rest else f"  {kind}: {key}")

    for n in report.new:
        if n.cited:
            head("new", n.key, f"{n.path}, not in the lock, cited {_n(n.cited, 'time')}; run "
                               f"{code}brief sources lock{code} to accept it")
            continue
        state = "in the lock" if n.locked else "not in the lock"
        head("new", n.key, f"{n.path}, {state}, not cited yet; it bears most on:")
        for rank_no, p in enumerate(n.pairs, 1):
            why = ", ".join(p.shared[:6])
            if markdown:
                out += [f"{rank_no}. `{p.path}:{p.line}` ({p.section}), score {p.score:.2f}",
                        f"   - brief: “{_short(p.paragraph, 160)}”",
                        f"   - source ¶ {p.number}: “{_short(p.passage, 160)}”",
                        f"   - shared terms: {why}"]
            else:
                out += [f"{item}{p.score:.2f}  {p.path}:{p.line} ({p.section})",
                        f"{item}      brief: “{_short(p.paragraph, 90)}”",
                        f"{item}      ¶ {p.number}: “{_short(p.passage, 90)}”",
                        f"{item}      shared: {why}"]
        if markdown:
            out.append("" if n.pairs else "No sentence of the brief shares its terms.\n")
        elif not n.pairs:
            out.append(f"{item}no sentence of the brief shares its terms")
    for ch in report.changed:
        ok = ch.rechecked - len(ch.vanished)
        head("changed", ch.key, f"{ch.path}: {_n(ch.rechecked, 'citation')} re-checked, "
                                f"{ok} still verified")
        for m in ch.moved:
            c = m.citation
            out.append(f"{item}moved {m.old} → {m.new} ({c.path}:{c.line}); run "
                       f"{code}brief check --fix-locators{code} to write it")
        if ch.vanished and not markdown:  # each is a finding, printed below the report
            their = "its" if len(ch.vanished) == 1 else "their"
            out.append(f"{item}{_n(len(ch.vanished), 'citation')} lost {their} evidence "
                       "(listed below)")
        for lost in ch.vanished if markdown else ():
            c = lost.citation
            what = f"“{_short(c.quote, 60)}”" if c.quote else c.locator or ""
            near = f"; {lost.did_you_mean()}" if lost.did_you_mean() else ""
            out.append(f"{item}vanished {what} — claim “{_short(c.claim, 60)}” in "
                       f"{c.where} ({c.path}:{c.line}){near}")
        if not ch.moved and not ch.vanished:
            out.append(f"{item}run {code}brief sources lock{code} to accept the new text")
        if markdown:
            out.append("")
    for r in report.removed:
        gone = "its entry is gone" if r.why == "entry" else "its file is gone"
        verb = "points" if len(r.citations) == 1 else "point"
        nowhere = f"; {_n(len(r.citations), 'citation')} {verb} nowhere" if r.citations else ""
        head("removed", r.key, f"{r.path}: {gone}{nowhere}")
        for c in r.citations if markdown else ():  # on stderr each is a finding
            out.append(f"{item}{c.path}:{c.line} — claim “{_short(c.claim, 60)}” in "
                       f"{c.where}")
        if markdown:
            out.append("")
    while markdown and out and out[-1] == "":
        out.pop()
    return out


# --- build/changes.md ----------------------------------------------------------------


def report_text(report: Report | None, failure: BaseException | None = None) -> str:
    """``build/changes.md`` for a report, or for a check that could not compare."""
    if report is not None:
        return report.markdown()
    head = "# Sources changed\n\n"
    if failure is not None:
        said = "\n".join("    " + line for line in str(failure).splitlines())
        return (f"{head}Not compared with `seeds/sources.lock`: the brief did not load.\n\n"
                f"{said}\n")
    return f"{head}No `seeds/sources.lock` to compare with: run `brief sources lock`.\n"
