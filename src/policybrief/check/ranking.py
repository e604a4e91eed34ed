"""Where a new source bears on the brief: its passages ranked against the brief's claims.

The brief is cut into **claims**: the sentences of its analysis paragraphs (body text and
the ``text``/``narrative`` of structured items), each with its file and line. The source
is cut into **passages** (its ¶ N), leaving out what is not content: the title, bylines
(``By …``), datelines (a date and a name, few words), infobox lines (``Field: value;
…``), navigation and link lists, and passages of fewer than 8 words.

Both are reduced to **terms**: words of three letters or more, lower-cased, stop words
dropped, stemmed with the Snowball English stemmer (``resigned`` and ``resignations``
both give ``resign``); years and other 4-digit numbers are kept as terms.

The **score** of a (claim, passage) pair is the cosine similarity of their TF-IDF
vectors: term weight ``(1 + ln tf) × (ln((1 + N) / (1 + df)) + 1)``, where ``df``
counts the claims and passages (``N`` in all) that hold the term, so that a term the
whole brief repeats ("Sadr", "Framework") weighs less than one that only this claim and
this passage share ("resign", "June", "2022"). Scores lie between 0 and 1. A pair is
shown only if it shares at least two terms; its **shared terms** (the words as written
in the claim, heaviest first) say why it matched. The report shows the best pairs, at
most one per claim.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .. import citations as cit
from ..model import Passage, Section, Source

STOP = frozenset(str.split("""a about above after again against all also am among an and any are as
    at be because been before being below between both but by can could did do does doing
    down during each either few for from further had has have having he her here hers him
    his how however i if in into is it its itself just may me might more most must my no
    nor not now of off on once one only or other our ours out over own per same she should
    since so some such than that the their theirs them then there these they this those
    though through thus to too two under until up upon very via was we were what when where
    whether which while who whom whose why will with within without would yet you your
    said says say according told also new year years week weeks day days time
    next last first former latter many much several still even well back another every
    never often already around across almost along always become becomes else enough
    ever less made make makes part put rather see seem seems take takes together toward
    towards whereas whole wherever besides beyond cannot could etc get give go keep
    like least mostly namely neither nobody none nothing onto others otherwise perhaps
    quite really seemed show shows side since sometime somewhere than thereby therefore
    three four five six whatever whenever whither within""", None))
_TERM = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\b\d{4}\b")
_SENTENCE = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")
_ABBREV = re.compile(r"\b(?:[A-Z]|Mr|Mrs|Ms|Dr|St|No|vs|e\.g|i\.e|U\.S|Jan|Feb|Mar|Apr|Jun|"
                     r"Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.$")
_DATEISH = re.compile(r"\b\d{4}\b|\b\d{1,2}\s+[A-Z][a-z]+\b|\b[A-Z][a-z]+\s+\d{1,2}\b")
MIN_WORDS = 8
MIN_SHARED = 2


@dataclass(frozen=True)
class Claim:
    """One sentence of the brief's analysis, and where it is."""

    path: str
    line: int
    section: str
    text: str


@dataclass(frozen=True)
class Hit:
    """A claim and a passage of the new source that bear on each other."""

    score: float
    claim: Claim
    passage: Passage
    shared: tuple[str, ...]


@lru_cache(maxsize=1)
def _stemmer() -> object:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def terms(text: str) -> list[tuple[str, str]]:
    """(stem, word as written) for each term of ``text``."""
    words = [w for w in _TERM.findall(text)]
    keep = [w for w in words if w.isdigit() or (len(w) > 2 and w.lower() not in STOP)]
    if not keep:
        return []
    stems = _stemmer().stemWords([w.lower().replace("’", "'") for w in keep])  # type: ignore[attr-defined]
    return [(s.removesuffix("'s"), w) for s, w in zip(stems, keep, strict=True)]


def sentences(text: str) -> list[tuple[int, str]]:
    """The sentences of a paragraph, with the offset where each starts."""
    out: list[tuple[int, str]] = []
    start = 0
    for m in _SENTENCE.finditer(text):
        if _ABBREV.search(text[start:m.start()]):
            continue
        out.append((start, text[start:m.start()].strip()))
        start = m.end()
    out.append((start, text[start:].strip()))
    return [(at, s) for at, s in out if s]


def _plain(text: str) -> str:
    """Without citations, emphasis marks and span attributes (``[…]{lang="ar"}``)."""
    text = re.sub(r"\[([^\[\]]*)\]\{[^{}]*\}", r"\1", cit.GROUP.sub("", text))
    return " ".join(text.replace("*", "").split())


def claims(sections: Iterable[Section]) -> list[Claim]:
    """Every sentence of analysis in the brief, with its file and line."""
    from .checks import paragraphs

    found: list[Claim] = []
    for s in sections:
        blocks: list[tuple[int, str]] = list(paragraphs(s.body, s.body_line))
        for name in ("items", "judgments", "scenarios"):
            for n, item in enumerate(s.fields.get(name, []) or []):
                for part in ("text", "narrative"):
                    text = item.get(part) if isinstance(item, dict) else None
                    if not isinstance(text, str) or not text.strip():
                        continue
                    pointer = f"{name}/{n}/{part}"
                    line = s.line_of(pointer)
                    literal = pointer in s.lines and text.endswith("\n")  # a block scalar
                    at = 0
                    for para in text.split("\n\n"):
                        if para.strip():
                            lead = len(para) - len(para.lstrip("\n"))
                            offset = text[:at + lead].count("\n") + 1 if literal else 0
                            blocks.append((line + offset, para.strip()))
                        at += len(para) + 2
        for line, block in blocks:
            raw_lines = [_plain(raw) for raw in block.split("\n")]
            for at, sentence in sentences(" ".join(raw_lines)):
                # the line of the sentence: count the block's lines before its start
                seen, row = 0, 0
                for row, raw in enumerate(raw_lines):  # noqa: B007
                    if seen + len(raw) + 1 > at:
                        break
                    seen += len(raw) + 1
                text = _plain(sentence)
                if len(text.split()) >= 4:
                    found.append(Claim(s.path, line + row, s.title, text))
    return found


def is_content(passage: Passage, title: str = "") -> bool:
    """False for what a reader skips: title, byline, dateline, infobox, navigation."""
    text = passage.text.strip()
    words = text.split()
    if len(words) < MIN_WORDS:
        return False
    if title and " ".join(title.split()).casefold() == " ".join(words).casefold():
        return False
    if re.match(r"(?i)(?:by|written by|author|photo|image|credit|source|published|"
                r"updated|posted|share|follow us|related|read more|tags?)\b\s*:?\s", text) \
            and len(words) < 25:
        return False
    if len(re.findall(r"(?:^|;\s*)[\w ’'()-]{1,40}:\s", text)) >= 2:  # infobox fields
        return False
    if text.count("|") >= 2 or text.count("›") >= 2 or text.count("»") >= 2:
        return False  # navigation and breadcrumbs
    if len(words) < 14 and _DATEISH.search(text) and not re.search(r"[.!?]$", text):
        return False  # a dateline
    return bool(re.search(r"[.!?…:][\"'”’)\]]*$", text)) or len(words) >= 20


def dated(source: Source) -> list[tuple[str, str]]:
    """The terms of the source's own date (its year and month, from a dateline in its
    first passages): a news report with no year in a paragraph speaks of its own day."""
    from ..load.metadata import MONTHS, find_date

    for passage in source.passages[:6]:
        found = find_date(passage.text)
        if found:
            year, _, month = found[0].partition("-")
            month_name = max((name for name, n in MONTHS.items()
                              if month and n == int(month[:2])), key=len, default="")
            return terms(f"{year} {month_name.capitalize()}")
    return []


def _vectors(docs: Sequence[list[str]]) -> list[dict[str, float]]:
    df = Counter(w for doc in docs for w in set(doc))
    n = len(docs)
    vectors = []
    for doc in docs:
        weights = {w: (1 + math.log(c)) * (math.log((1 + n) / (1 + df[w])) + 1)
                   for w, c in Counter(doc).items()}
        norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
        vectors.append({w: v / norm for w, v in weights.items()})
    return vectors


def rank(source: Source, sections: Iterable[Section], limit: int = 5,
         per_claim: int = 1) -> list[Hit]:
    """The ``limit`` best (claim, passage) pairs, best first, at most ``per_claim`` for
    each claim of the brief."""
    brief = claims(sections)
    passages = [p for p in source.passages if is_content(p, source.title)]
    if not brief or not passages:
        return []
    ours = [terms(c.text) for c in brief]
    when = dated(source)
    theirs = [terms(p.text) + (when if not re.search(r"\b\d{4}\b", p.text) else [])
              for p in passages]
    vectors = _vectors([[s for s, _ in t] for t in ours + theirs])
    a_side, b_side = vectors[: len(brief)], vectors[len(brief):]
    hits: list[Hit] = []
    for claim, written, a in zip(brief, ours, a_side, strict=True):
        for passage, b in zip(passages, b_side, strict=True):
            common = a.keys() & b.keys()
            if len(common) < MIN_SHARED:
                continue
            score = sum(a[w] * b[w] for w in common)
            words = {s: w for s, w in written}
            shared = tuple(words[w] for w in sorted(common, key=lambda w: (-a[w] * b[w], w)))
            hits.append(Hit(round(score, 3), claim, passage, shared))
    hits.sort(key=lambda h: (-h.score, h.claim.path, h.claim.line, h.passage.number))
    out: list[Hit] = []
    used: Counter[tuple[str, int, str]] = Counter()
    for hit in hits:
        key = (hit.claim.path, hit.claim.line, hit.claim.text)
        if used[key] >= per_claim:
            continue
        used[key] += 1
        out.append(hit)
        if len(out) == limit:
            break
    return out
