"""The quote index: find a verbatim quote in a cited source, or the passage closest to it.

Each source is indexed once, on first use of its citation key: the passages' display
texts and their normalised forms are each joined with "\\n" (which neither a passage
nor a collapsed quote contains, so no match crosses a passage boundary), and a bisect
over the passage start offsets maps a hit back to its passage.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass

from ..load.sources import fold, normalise
from ..model import NearMiss, Passage, QuoteMatch, Source

_MARKS = (
    r"\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"
    r"\u0900-\u0903\u093a-\u094f\u1ab0-\u1aff\u1dc0-\u1dff\u00ad\u200b-\u200d\u2060\ufeff"
    r"\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f"
)
# printable ASCII with single inner spaces (normalised one to one), a whitespace run,
# or one other character with its combining marks
_TOKEN = re.compile(rf"[!-~](?: ?[!-~])*(?![{_MARKS}])|\s+|.[{_MARKS}]*", re.S)


@dataclass(frozen=True)
class _Indexed:
    passages: tuple[Passage, ...]
    raw: str
    raw_starts: list[int]
    norm: str
    norm_starts: list[int]
    norm_texts: tuple[str, ...]


def _joined(texts: tuple[str, ...]) -> tuple[str, list[int]]:
    starts, at = [], 0
    for text in texts:
        starts.append(at)
        at += len(text) + 1
    return "\n".join(texts), starts


def _offset_map(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` normalised piece by piece, with each output character's source span."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _TOKEN.finditer(text):
        token, at = m.group(), m.start()
        if token.isascii() and not token[0].isspace():
            chars.append(fold(token))
            starts.extend(range(at, m.end()))
            ends.extend(range(at + 1, m.end() + 1))
            continue
        for ch in " " if token.isspace() else fold(token):
            if ch.isspace():
                if not chars or chars[-1][-1] == " ":
                    continue
                ch = " "
            chars.append(ch)
            starts.append(at)
            ends.append(m.end())
    mapped = "".join(chars)
    if mapped.endswith(" "):
        mapped = mapped[:-1]
    return mapped, starts[: len(mapped)], ends[: len(mapped)]


class QuoteIndex:
    """Finds quotes in the sources cited under each key (built lazily, once per key)."""

    def __init__(self, sources: Mapping[str, Source]) -> None:
        self._sources = sources
        self._index: dict[str, _Indexed] = {}
        self._maps: dict[tuple[str, int], tuple[str, list[int], list[int]]] = {}

    def _get(self, key: str) -> _Indexed | None:
        found = self._index.get(key)
        if found is None:
            source = self._sources.get(key)
            if source is None:
                return None
            texts = tuple(p.text for p in source.passages)
            norm_texts = tuple(normalise(t) for t in texts)
            raw, raw_starts = _joined(texts)
            norm, norm_starts = _joined(norm_texts)
            found = _Indexed(source.passages, raw, raw_starts, norm, norm_starts, norm_texts)
            self._index[key] = found
        return found

    def find(self, key: str, quote: str) -> QuoteMatch | None:
        """The first passage holding ``quote``: exactly, else after normalisation."""
        index = self._get(key)
        wanted = " ".join(quote.split())
        if index is None or not wanted:
            return None
        at = index.raw.find(wanted)
        if at >= 0:
            k = bisect_right(index.raw_starts, at) - 1
            start = at - index.raw_starts[k]
            return QuoteMatch(index.passages[k], "exact", start, start + len(wanted))
        needle = normalise(wanted)
        at = index.norm.find(needle) if needle else -1
        if at < 0:
            return None
        k = bisect_right(index.norm_starts, at) - 1
        start, end = self._span(key, index, k, at - index.norm_starts[k], needle)
        return QuoteMatch(index.passages[k], "normalised", start, end)

    def _span(self, key: str, index: _Indexed, k: int, at: int, needle: str) -> tuple[int, int]:
        """Map a hit in the normalised passage back to offsets in ``passage.text``."""
        text = index.passages[k].text
        cached = self._maps.get((key, k))
        if cached is None:
            cached = self._maps[(key, k)] = _offset_map(text)
        mapped, starts, ends = cached
        if mapped != index.norm_texts[k]:  # piecewise normalisation differs: re-find
            at = mapped.find(needle)
            if at < 0:
                return 0, len(text)
        return starts[at], ends[at + len(needle) - 1]

    def closest(self, key: str, quote: str) -> NearMiss | None:
        """The passage most like ``quote`` (rapidfuzz partial ratio, 0–1)."""
        from rapidfuzz import fuzz, process  # only a quote not found needs it

        index = self._get(key)
        needle = normalise(quote)
        if index is None or not needle or not index.passages:
            return None
        best, best_score = 0, -1.0
        for _, score, k in process.extract(
            needle, index.norm_texts, scorer=fuzz.partial_ratio, processor=None, limit=None
        ):
            # a passage shorter than the quote only covers part of it
            score *= min(1.0, len(index.norm_texts[k]) / len(needle))
            if score > best_score or (score == best_score and k < best):
                best, best_score = k, score
        return NearMiss(index.passages[best], round(best_score / 100, 4))

    def locate(self, key: str, number: int) -> Passage | None:
        """The passage numbered ``number`` (the ``¶ N`` of a locator)."""
        source = self._sources.get(key)
        return source.passage(number) if source is not None else None

