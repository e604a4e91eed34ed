"""Claims against their evidence: the numbers, names and hedges of a sentence, read
against the passages it cites.

A quote being verbatim says nothing of the sentence it is attached to. This stage does
what an editor does by hand: for every sentence of a section (the body and the Markdown
fields), it takes the passages that the sentence cites, or, for a sentence without its
own citation, the passages its paragraph (or its item's ``citations:`` list) cites, and

- ``claim.number``: every number of the sentence (years, dates, counts, percentages, in
  figures or in words) must be in one of those passages; dates match across forms
  (``31 August 2022`` = ``2022-08-31`` = ``August 31, 2022``), a coarser date is
  supported by a finer one, never the other way round (``end of August 2022`` does not
  support ``31 August 2022``); the likelihood bands of the estimative scale are exempt;
- ``claim.name``: every person, organisation or place (from the actor map, the name style
  sheet ``report/names.yaml`` and capitalised sequences) must be mentioned by one of them,
  under any of its aliases;
- ``claim.hedge-dropped``: a passage sentence that the sentence restates, qualified
  ("may", "reportedly", …), must not be restated without a qualifier of the sentence's
  own;
- ``claim.source-likelihood``: a likelihood attributed to a source must rest on a passage
  with an estimative expression.

Text marked as the brief's own judgment (``[sentence]{.own}``, or a ``::: own`` fenced
div) is exempt from the first three and listed as such in the evidence appendix. Every
rule is in docs/checks.md.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import citations as cit
from ..model import Citation, Entry, Finding, Passage, QuoteMatch, Section, Source
from . import tradecraft

# --- numbers and dates ---------------------------------------------------------------

MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august",
     "september", "october", "november", "december"])}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|" \
         r"November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
_PART = r"(?:early|mid|late|the\s+end\s+of|end\s+of|the\s+beginning\s+of|beginning\s+of|" \
        r"the\s+start\s+of|start\s+of)"
_ORD = r"(?:st|nd|rd|th)?"
UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
         "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
         "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
         "eighteen": 18, "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
# words for an amount, not a number: matched as themselves
AMOUNTS = ("dozens", "hundreds", "thousands", "millions", "dozen", "hundred", "thousand",
           "million")
_WORD = (r"(?:(?:" + "|".join(TENS) + r")(?:[- ](?:" + "|".join(list(UNITS)[1:10]) + r"))?"
         r"|" + "|".join(UNITS) + r")")
_DATE_RX = re.compile(
    rf"(?P<iso>\b(?P<iy>\d{{4}})-(?P<im>\d{{2}})-(?P<id>\d{{2}})\b)"
    rf"|(?P<dmy>\b(?P<d1>\d{{1,2}}){_ORD}\s+(?P<m1>{_MONTH})(?:,?\s+(?P<y1>\d{{4}}))?\b)"
    rf"|(?P<mdy>\b(?P<m2>{_MONTH})\s+(?P<d2>\d{{1,2}}){_ORD}(?!\d)(?:,\s*(?P<y2>\d{{4}}))?\b)"
    rf"|(?P<my>\b(?:(?P<p3>{_PART})[\s-]+)?(?P<m3>{_MONTH})(?:\s+of)?\s+(?P<y3>\d{{4}})\b)"
    rf"|(?P<py>\b(?P<p4>{_PART})\s+(?P<y4>\d{{4}})\b)"
    rf"|(?P<dec>\b(?P<y5>\d{{3}}0)s\b)"
    rf"|(?P<mo>\b(?:in|since|by|until|from|of|during)\s+(?P<m6>{_MONTH})\b(?!\s+\d))",
    re.I)
# the same without the forms that need a digit, for text that has none
_MONTH_RX = re.compile(
    rf"(?P<mo>\b(?:in|since|by|until|from|of|during)\s+(?P<m6>{_MONTH})\b(?!\s+\d))", re.I)
_NUMBER_RX = re.compile(
    rf"(?P<range>\b(?P<lo>\d{{1,3}})\s*[–-]\s*(?P<hi>\d{{1,3}})\s*(?:%|per\s*cent\b|percent\b))"
    r"|(?P<fig>(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w,])|(?<![\w.,])\d+(?:\.\d+)?(?![\w]))"
    rf"|(?P<word>\b{_WORD}\b)"
    rf"|(?P<amount>\b(?:{'|'.join(AMOUNTS)})\b)",
    re.I)
_DETERMINER = re.compile(r"\b(?:the|these|those|both|its|their|his|her|our|all|each|"
                         r"of|'s|’s)\s*$", re.I)
_BANDS = {(lo, hi) for lo, hi in tradecraft.LIKELIHOOD.values()}


@dataclass(frozen=True)
class Number:
    """A number as written (``text``) and what it means (``key``)."""

    text: str
    key: tuple[Any, ...]


def _part(word: str | None) -> str | None:
    if not word:
        return None
    word = word.lower()
    if "end" in word or word == "late":
        return "late"
    if word == "mid":
        return "mid"
    return "early"


def _day_part(day: int) -> str:
    return "early" if day <= 10 else "mid" if day <= 20 else "late"


def _month_part(month: int) -> str:
    return "early" if month <= 4 else "mid" if month <= 8 else "late"


def _word_value(text: str) -> int:
    parts = re.split(r"[- ]", text.lower())
    return sum(TENS.get(p, UNITS.get(p, 0)) for p in parts)


def numbers(text: str, references: bool = False) -> list[Number]:
    """Every date and number in ``text`` (dates first; a number inside a date is the date);
    with ``references``, also the number words that refer back ("the two men")."""
    found: list[tuple[int, Number]] = []
    taken: list[tuple[int, int]] = []
    digits = _DIGIT.search(text) is not None
    for m in (_DATE_RX if digits else _MONTH_RX).finditer(text):
        g = m.groupdict()
        if g.get("iso"):
            key: tuple[Any, ...] = ("d", int(g["iy"]), int(g["im"]), int(g["id"]))
        elif g.get("dmy") or g.get("mdy"):
            month = MONTHS[(g["m1"] or g["m2"]).lower().rstrip(".")[:4].rstrip("t")
                           if (g["m1"] or g["m2"]).lower().startswith("sept")
                           else (g["m1"] or g["m2"]).lower().rstrip(".")]
            year = g["y1"] or g["y2"]
            key = ("d", int(year) if year else None, month, int(g["d1"] or g["d2"]))
            if not 1 <= key[3] <= 31:
                continue
        elif g.get("my"):
            key = ("m", int(g["y3"]), MONTHS[g["m3"].lower().rstrip(".")], _part(g["p3"]))
        elif g.get("py"):
            key = ("y", int(g["y4"]), _part(g["p4"]))
        elif g.get("dec"):
            key = ("decade", int(g["y5"]))
        else:
            if g["m6"] == "may" or g["m6"].lower() == "may":
                continue  # "by May" is too rare, "may" too common
            key = ("m", None, MONTHS[g["m6"].lower().rstrip(".")], None)
            span = m.span("m6")
            found.append((span[0], Number(g["m6"], key)))
            taken.append(span)
            continue
        span = m.span()
        found.append((span[0], Number(" ".join(m.group().split()), key)))
        taken.append(span)
    for m in _NUMBER_RX.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        g = m.groupdict()
        if g["range"]:
            lo, hi = int(g["lo"]), int(g["hi"])
            if (lo, hi) in _BANDS:
                continue  # a likelihood band of the estimative scale
            found.append((m.start("lo"), Number(g["lo"], ("n", float(lo)))))
            found.append((m.start("hi"), Number(g["hi"] + "%", ("n", float(hi)))))
            continue
        if g["fig"]:
            value = float(g["fig"].replace(",", ""))
            if value.is_integer() and 1000 <= value <= 2100 and "," not in g["fig"] \
                    and "." not in g["fig"]:
                found.append((m.start(), Number(g["fig"], ("y", int(value), None))))
            else:
                found.append((m.start(), Number(g["fig"], ("n", value))))
        elif g["word"]:
            word = g["word"]
            if word.lower() in ("one", "zero"):
                continue  # "one of", "no one": rarely a count
            if not references and _DETERMINER.search(text[max(0, m.start() - 12): m.start()]):
                continue  # "the two men": a reference back, not a count
            found.append((m.start(), Number(word, ("n", float(_word_value(word))))))
        else:
            word = g["amount"].lower()
            found.append((m.start(), Number(g["amount"], ("a", word.rstrip("s")))))
    return [n for _, n in sorted(found, key=lambda x: x[0])]


def evidence_keys(text: str) -> set[tuple[Any, ...]]:
    """What a passage can support: each of its numbers and dates at every coarser level."""
    keys: set[tuple[Any, ...]] = set()
    found = numbers(text, references=True)
    years = [(i, n.key[1]) for i, n in enumerate(found) if n.key[0] in ("y", "m", "d")
             and n.key[1] is not None]
    for i, n in enumerate(found):
        kind = n.key[0]
        if kind == "d" and n.key[1] is None:  # "On 31 August": the year from the context
            before = [y for j, y in years if j < i]
            after = [y for j, y in years if j > i]
            year = before[-1] if before else after[0] if after else None
            keys.add(("md", n.key[2], n.key[3]))
            keys.add(("mo", n.key[2]))
            if year is None:
                continue
            n = Number(n.text, ("d", year, n.key[2], n.key[3]))
        if kind == "m" and n.key[1] is None:
            keys.add(("mo", n.key[2]))
            continue
        if n.key[0] == "d":
            _, y, mo, d = n.key
            keys |= {n.key, ("md", mo, d), ("m", y, mo, None), ("m", y, mo, _day_part(d)),
                     ("mo", mo), ("y", y, None), ("y", y, _month_part(mo))}
        elif n.key[0] == "m":
            _, y, mo, _part = n.key
            keys |= {n.key, ("m", y, mo, None), ("mo", mo), ("y", y, None),
                     ("y", y, _month_part(mo))}
        elif n.key[0] == "y":
            keys |= {n.key, ("y", n.key[1], None)}
        elif n.key[0] == "n" and n.key[1].is_integer() and 1000 <= n.key[1] <= 2100:
            keys |= {n.key, ("y", int(n.key[1]), None)}
        else:
            keys.add(n.key)
        if n.key[0] == "y" and n.key[2] is None:
            keys.add(("n", float(n.key[1])))
    return keys


def supported(number: Number, keys: set[tuple[Any, ...]]) -> bool:
    key = number.key
    if key[0] == "d" and key[1] is None:
        return ("md", key[2], key[3]) in keys
    if key[0] == "m" and key[1] is None:
        return ("mo", key[2]) in keys
    return key in keys


def describe(keys: Iterable[tuple[Any, ...]], near: tuple[Any, ...]) -> list[str]:
    """The passage's dates in the year of ``near`` (for a hint), as words."""
    names = [m.capitalize() for m in list(MONTHS)[:12]]
    out = []
    for k in sorted(keys, key=str):
        if len(near) > 1 and k[0] in ("d", "m") and k[1] == near[1]:
            if k[0] == "d":
                out.append(f"{k[3]} {names[k[2] - 1]} {k[1]}")
            elif k[3]:
                out.append(f"{'end of' if k[3] == 'late' else k[3]} {names[k[2] - 1]} {k[1]}")
    return out


# --- names ---------------------------------------------------------------------------

def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that are capitalised but name no one: demonyms, titles, months, generic heads.
NOT_NAMES = _wordset("""
shia shiite shiites sunni sunnis kurdish kurds iranian iranians iraqi iraqis american
americans arab arabs palestinian palestinians israeli israelis persian western
islamist sadrist sadrists khomeinist english arabic
prime minister president former commander ayatollah marja sheikh sayyid general
leader imam grand mr ms dr
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
i we our us
""")
# Heads of organisation names: never enough alone to say the name is there.
GENERIC = _wordset("""
party army movement alliance coalition organization organisation force forces brigades
brigade companies company group groups council front zone base airport government state
union bloc list committee ministry office
""")
# A capital's name for the state's government (metonymy), as editors read it.
METONYMS = {"tehran": "iran", "washington": "united states", "baghdad": "iraq"}
_PARTICLE = r"(?:al|el|ad|an|ar|as|ash|at|az|bin|ibn|abu|abd|bint|de|van|von)"
_NAME_WORD = rf"(?:(?<![\w'’‑-]){_PARTICLE}[-‑ ]|(?<![\w'’‑-]))[A-Z][\w'’‑-]*"
_NAME_SEQ = re.compile(
    rf"{_NAME_WORD}(?:[ \t]+(?:(?:of|of\s+the|for|{_PARTICLE})[ \t]+)?"
    rf"{_NAME_WORD})*")
_PROPER = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]+(?:['’]s)?\b")
_DEFINE = re.compile(r"((?:[A-Z][\w'’-]*[ \t]+(?:(?:al|of|the)[- \t]+)?)+[A-Z][\w'’-]*)"
                     r"\s+\((?P<short>[A-Z]{2,6})\)")
_WORDS = re.compile(r"[a-z][a-z'’-]*")
_POSSESSIVE = re.compile(r"['’`]s\b")
_JOINERS = re.compile(r"[-‑'’`´]")
_OWNER = re.compile(r"(?<=s)['’]$|['’]s$")
_PARTICLE_ONLY = re.compile(rf"(?:{_PARTICLE})$", re.I)
_LETTERS = re.compile(r"[a-z]+")
_OTHER_SCRIPT = re.compile(r"\[[^\[\]\n]*\]\{[^{}\n]*lang=[^{}\n]*\}")
_MARKUP = re.compile(r"(?<![\w])[\[\]*_](?![\w])|(?<=\w)[\]*_]|[\[*_](?=\w)")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_DIGIT = re.compile(r"\d")


@functools.lru_cache(maxsize=8192)
def fold_name(text: str) -> str:
    """The comparable form of a name: lower case, hyphens and apostrophes as spaces."""
    from ..load.sources import fold

    text = fold(text)
    text = _POSSESSIVE.sub("", text)
    text = _JOINERS.sub(" ", text)
    return " ".join(text.split())


@dataclass
class Names:
    """Every known name and its aliases: folded form → the canonical name."""

    canonical: dict[str, str] = field(default_factory=dict)
    forms: dict[str, set[str]] = field(default_factory=dict)
    common: set[str] = field(default_factory=set)  # words also written in lower case
    proper: set[str] = field(default_factory=set)  # words capitalised mid-sentence
    exempt: set[str] = field(default_factory=set)  # the sources' own names (authors)

    def add(self, name: str, *aliases: str) -> None:
        names = [n for n in (name, *aliases) if isinstance(n, str) and n.strip()]
        if not names:
            return
        canon = self.canonical.get(fold_name(names[0]), names[0].strip())
        for n in names:
            self.canonical.setdefault(fold_name(n), canon)
        bucket = self.forms.setdefault(canon, set())
        for n in names:
            bucket.add(fold_name(n))
            short = acronym(n)
            if short:
                bucket.add(short.lower())
                self.canonical.setdefault(short.lower(), canon)

    def of(self, name: str) -> set[str]:
        """Every folded form of ``name``: itself, its aliases, its metonym."""
        folded = fold_name(name)
        forms = {folded}
        canon = self.canonical.get(folded)
        if canon is not None:
            forms |= self.forms.get(canon, set())
        if folded in METONYMS:
            forms.add(METONYMS[folded])
        return forms


def acronym(name: str) -> str:
    """``Asa'ib Ahl al-Haq`` → ``AAH``; ``United States`` → ``US``; else ""."""
    words = [w for w in re.split(r"[\s]+", re.sub(r"\([^)]*\)", "", name)) if w]
    letters = []
    for w in words:
        w = re.sub(rf"^{_PARTICLE}[-‑]", "", w)
        if w[:1].isupper():
            letters.append(w[0])
    return "".join(letters) if len(letters) >= 2 and len(words) == len(letters) + sum(
        1 for w in words if w in ("of", "the", "al")) else ""


def _split_alias(text: str) -> list[str]:
    """``Peace Companies (Peace Brigades)`` → both."""
    m = re.match(r"^(.*?)\s*\(([^()]+)\)\s*$", text.strip())
    return [m.group(1), m.group(2)] if m else [text.strip()]


def load_names(root: Path, entries: Mapping[str, Entry],
               texts: Iterable[str] = ()) -> Names:
    """The names of the actor map and the name style sheet (both optional, read
    defensively: their own checks report what is wrong with them), aliases defined in
    the sources and the brief (``Asa'ib Ahl al-Haq (AAH)``), and the sources' authors."""
    import yaml

    from ..load import frontmatter

    names = Names()

    def read(path: Path) -> Any:
        try:
            return frontmatter.safe_load(path.read_text("utf-8")) if path.is_file() else None
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return None

    actors = read(root / "report" / "actors.yaml")
    for actor in (actors or {}).get("actors") or [] if isinstance(actors, Mapping) else []:
        if isinstance(actor, Mapping) and isinstance(actor.get("name"), str):
            names.add(*_split_alias(actor["name"]))
            if isinstance(actor.get("leader"), str):
                names.add(actor["leader"])
    sheet = read(root / "report" / "names.yaml")
    if isinstance(sheet, Mapping):
        sheet = sheet.get("names", sheet) if isinstance(sheet.get("names"), (list, dict)) \
            else sheet
    if isinstance(sheet, Mapping):
        for canon, variants in sheet.items():
            names.add(str(canon), *_variants(variants))
    elif isinstance(sheet, list):
        for item in sheet:
            if isinstance(item, str):
                names.add(item)
            elif isinstance(item, Mapping):
                canon = next((item[k] for k in ("name", "canonical", "preferred", "use")
                              if isinstance(item.get(k), str)), None)
                if canon:
                    names.add(canon, *_variants([item.get(k) for k in (
                        "aliases", "variants", "forms", "alias", "avoid", "also")]))
    for text in texts:
        for m in _DEFINE.finditer(text):
            long = re.sub(r"^(?:The|the)\s+", "", m.group(1))
            names.add(long, m.group("short"))
        names.common.update(_WORDS.findall(text))
        names.proper.update(re.sub(r"['’]s$", "", w).lower() for w in _PROPER.findall(text))
    for entry in entries.values():
        # who wrote and published a source (not its title, which names its subject)
        for name in ("author", "institution", "organization", "publisher", "location"):
            for word in re.findall(r"[A-Z][\w'’-]+", entry.fields.get(name, "")):
                names.exempt.add(fold_name(word))
    return names


def _variants(value: Any) -> list[str]:
    out: list[str] = []
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, Mapping):
        for v in value.values():
            out += _variants(v)
    elif isinstance(value, list):
        for v in value:
            out += _variants(v)
    return out


def names_in(sentence: str, table: Names) -> list[str]:
    """The names of a sentence as written: known names, then capitalised sequences."""
    text = sentence
    found: list[tuple[int, str]] = []
    first = re.match(r"^[\s\"'“‘(\[*_]*", text)
    start_at = first.end() if first else 0
    for m in _NAME_SEQ.finditer(text):
        words = m.group().split()
        at = m.start()
        pieces: list[list[str]] = [[]]
        for w in words:
            core = _OWNER.sub("", w)  # "Sadrists'", "Maliki's"
            head, dash, tail = core.partition("-")
            if dash and tail[:1].islower() and head[:1].isupper() \
                    and not _PARTICLE_ONLY.match(head):
                pieces[-1].append(head)  # "Iran-backed": the name, then a break
                pieces.append([])
                continue
            pieces[-1].append(core)
            if core != w:  # "Maliki's State of Law": the possessive ends a name
                pieces.append([])
        for piece in pieces:
            name = _trim(piece, at == start_at and piece is pieces[0], table)
            if name:
                found.append((at, name))
    return [n for _, n in found]


def _trim(words: list[str], initial: bool, table: Names) -> str:
    while words and (words[-1].lower() in ("of", "the", "and", "for") or
                     _PARTICLE_ONLY.match(words[-1])):
        words = words[:-1]
    def not_name(word: str) -> bool:  # "US" is a country, "us" is not
        return fold_name(word) in NOT_NAMES and not (word.isupper() and len(word) > 1)

    while words and (not_name(words[0]) or words[0].lower() in ("the", "of")):
        words = words[1:]
        initial = False
    while words and not_name(words[-1]):
        words = words[:-1]
    if not words:
        return ""
    name = " ".join(words)
    folded = fold_name(name)
    if folded in table.canonical:
        return name
    first = words[0].lower()
    if initial and (first in table.common or first not in table.proper):
        # "When", "Critics": a capital only because the sentence starts there
        if len(words) == 1:
            return ""
        if fold_name(" ".join(words[1:])) in table.canonical or first in table.common:
            return _trim(words[1:], False, table)
    if len(words) == 1 and (len(folded) < 2 or folded in GENERIC):
        return ""
    if all(not_name(w) or w.lower() in table.common for w in words) \
            and len(words) == 1:
        return ""
    return name


def mentioned(name: str, passage: str, table: Names) -> bool:
    """Whether ``passage`` (folded with fold_name) mentions ``name`` in any form; a name
    joined with "of" that is not there whole is there when each of its parts is
    ("the Fatah Alliance of Hadi al-Amiri")."""
    if _mentioned(name, passage, table):
        return True
    parts = [p for p in re.split(r"\s+of\s+(?:the\s+)?", name) if p]
    if len(parts) > 1:
        parts = [p for p in parts if fold_name(p) not in GENERIC]
        return all(_mentioned(p, passage, table) for p in parts)
    return False


def _mentioned(name: str, passage: str, table: Names) -> bool:
    for form in table.of(name):
        if _has(form, passage):
            return True
        words = form.split()
        if len(words) == 1 and any(_has(form + s, passage) for s in ("ian", "ians", "i", "is")):
            return True  # Iran → Iranian, Iraq → Iraqi
        person = 2 <= len(words) <= 4 and not any(w in GENERIC or w == "of" for w in words)
        if person and len(words[-1]) >= 4 and _has(words[-1], passage):
            return True  # "Mohammad Shia' al-Sudani" → "Sudani"
    return False


def _has(form: str, text: str) -> bool:
    at = text.find(form)
    while at >= 0:
        end = at + len(form)
        if (at == 0 or not text[at - 1].isalnum()) and (end == len(text) or
                                                        not text[end].isalnum()):
            return True
        at = text.find(form, at + 1)
    return False


# --- hedges --------------------------------------------------------------------------

# What qualifies a source's statement (issue 18's list, with inflections, and the
# attributions that do the same work: "observers argue", "was accused of").
HEDGE = re.compile(
    r"\b(?:appears?|appeared|apparently|seems?|seemed|seemingly|may|might|could(?!\s+not)|"
    r"likely|unlikely|reportedly|allegedly|alleged|purportedly|according\s+to|"
    r"suggests?|suggested|suggesting|(?:is|are|was|were)\s+said\s+to|potentially|"
    r"possibly|perhaps|probably|speculate[sd]?|argue[sd]?|accused\s+of)\b")
# What qualifies the brief's sentence: a hedge, an estimative term, or an attribution.
QUALIFIED = re.compile(
    HEDGE.pattern + r"|\b(?:possible|possibility|plausible|perceived|suspected|unproven|"
    r"circumstantial|reports?|reported|warns?|expects?|argues?|notes?|says?|claims?|"
    r"judges?|describes?|presents?|frames?|sees|calls?|quoted|cited|speculation|"
    r"assessment|we\s+judge|we\s+assess|read\s+as|on\s+(?:the\s+)?[\w'’]+\s+"
    r"(?:account|reading|count|view)|in\s+(?:its|their|his)\s+view)\b", re.I)
_STOP = _wordset("""the and that this with from their there have been were which would
what when where while into over under than then also such some more most much many
other others these those they them whose about after before between against among
only even just very each both either neither being does done""")


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _LETTERS.findall(fold_name(text)) if len(w) >= 4
            and w not in _STOP}


def restates(sentence: str, source_sentence: str) -> bool:
    """Whether the sentence says what the source sentence says (shared content words)."""
    mine, theirs = _stems(sentence), _stems(source_sentence)
    shared = mine & theirs
    return len(shared) >= 2 and len(shared) >= 0.34 * len(mine)


def source_sentence(passage: Passage, start: int, end: int) -> str:
    """The whole sentence(s) of ``passage`` around the quoted span."""
    text = passage.text
    left = max(text.rfind(". ", 0, start), text.rfind("? ", 0, start),
               text.rfind("! ", 0, start))
    left = 0 if left < 0 else left + 2
    right = len(text)
    for mark in (". ", "? ", "! "):
        at = text.find(mark, max(end - 1, start))
        if at >= 0:
            right = min(right, at + 1)
    return text[left:right].strip()


# --- the check -----------------------------------------------------------------------

OWN_SPAN = re.compile(r"\[(?P<body>(?:[^\[\]]|\[[^\[\]]*\])*)\]\{[^{}\n]*?\.own\b[^{}\n]*\}")
OWN_OPEN = re.compile(r"^[ \t]*:{3,}[ \t]*(?:\{[^}\n]*\.own\b[^}\n]*\}|own)[ \t]*$", re.M)
FENCE = re.compile(r"^[ \t]*:{3,}[ \t]*(?P<rest>.*)$", re.M)
_ATTRS = re.compile(r"\]\{[^{}\n]*\}")
_ESTIMATIVE = re.compile(tradecraft.TERM_PATTERN + r"|\b(?:probab\w*|likelihood|chances?|"
                         r"odds|possibl[ey]|certain(?:ly)?)\b", re.I)


@dataclass(frozen=True)
class Cited:
    """One passage a sentence rests on, and where in it the quote is (if quoted)."""

    key: str
    passage: Passage
    span: tuple[int, int] | None

    @property
    def label(self) -> str:
        return f"{self.key} ¶ {self.passage.number}"


@dataclass
class Assessment:
    missing_numbers: list[Number] = field(default_factory=list)
    missing_names: list[str] = field(default_factory=list)
    dropped: list[tuple[Cited, str, str]] = field(default_factory=list)  # cited, hedge, sentence
    found: list[tuple[str, list[str]]] = field(default_factory=list)  # item, passage labels


class _PassageFacts:
    """Per passage, computed once: its number keys and its folded text."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, int], set[tuple[Any, ...]]] = {}
        self._folded: dict[tuple[str, int], str] = {}
        self.dated: dict[str, set[tuple[Any, ...]]] = {}

    def keys(self, c: Cited) -> set[tuple[Any, ...]]:
        k = (c.passage.path, c.passage.number)
        if k not in self._keys:
            self._keys[k] = evidence_keys(c.passage.text)
        return self._keys[k]

    def folded(self, c: Cited) -> str:
        k = (c.passage.path, c.passage.number)
        if k not in self._folded:
            self._folded[k] = fold_name(c.passage.text)
        return self._folded[k]


def assess(sentence: str, cited: Sequence[Cited], table: Names,
           facts: _PassageFacts | None = None,
           dated: Mapping[str, set[tuple[Any, ...]]] | None = None) -> Assessment:
    """The numbers and names of ``sentence`` not found in ``cited``, and the hedges it
    drops; ``found`` says where each of the others is. ``dated``: per key, the date of
    the cited document itself (its bibliography entry), which supports a sentence's
    "a paper of 5 May 2024" as well as the passage does."""
    facts = facts or _PassageFacts()
    dated = dated or {}
    result = Assessment()
    for number in numbers(sentence):
        where = [c.label for c in cited if supported(number, facts.keys(c))]
        where += [f"{k} date of the document" for k in dict.fromkeys(c.key for c in cited)
                  if not where and supported(number, dated.get(k, set()))]
        if where:
            result.found.append((number.text, where))
        else:
            result.missing_numbers.append(number)
    for name in dict.fromkeys(names_in(sentence, table)):
        capitals = [fold_name(w) for w in name.split() if w[:1].isupper()]
        if fold_name(name) in table.exempt or (capitals and all(w in table.exempt
                                                                for w in capitals)):
            continue
        where = [c.label for c in cited if mentioned(name, facts.folded(c), table)]
        if where:
            result.found.append((name, where))
        else:
            result.missing_names.append(name)
    if not QUALIFIED.search(sentence):
        for c in cited:
            if c.span is None:
                continue
            whole = source_sentence(c.passage, *c.span)
            hedge = HEDGE.search(whole)
            if hedge and restates(sentence, whole):
                result.dropped.append((c, hedge.group(), whole))
                break
    return result


@dataclass(frozen=True)
class Report:
    """What the claim checks found, for the findings and the evidence appendix."""

    findings: list[Finding]
    notes: dict[Citation, str]  # the unit's facts, on each of its citations


def check(sections: Sequence[Section], matches: Mapping[Citation, QuoteMatch],
          sources: Mapping[str, Source], table: Names,
          entries: Mapping[str, Entry] | None = None) -> Report:
    """Every claim finding for the loaded sections (see the module docstring)."""
    findings: list[Finding] = []
    notes: dict[Citation, str] = {}
    facts = _PassageFacts()
    facts.dated = {key: evidence_keys(entry.fields.get("date") or entry.fields.get("year", ""))
                   for key, entry in (entries or {}).items()}
    for section in sections:
        by_place: dict[tuple[int, str, str | None], list[Citation]] = {}
        for c in section.citations:  # the inline ones, to find them by where they are
            if "/citations/" not in f"/{c.field}":
                by_place.setdefault((c.line, c.key, c.quote), []).append(c)
        for _, text, first_line, item_cites in _texts(section):
            _check_text(section, text, first_line, item_cites, by_place, matches,
                        sources, table, facts, findings, notes)
        findings += _source_likelihood(section, matches, sources)
    return Report(findings, notes)


Text = tuple[str, str, int, list[Citation]]


def _texts(section: Section) -> Iterator[Text]:
    """(pointer, text, first line, the item's structured citations) per Markdown text."""
    for pointer, text, first in tradecraft.markdown_texts(section):
        if not pointer:  # the body: no item, no structured citations
            yield pointer, text, first, []
            continue
        parent = pointer.rpartition("/")[0]
        listed = [c for c in section.citations
                  if c.field.startswith(f"{parent}/citations/" if parent else "citations/")]
        yield pointer, text, first, listed


def own_ranges(text: str) -> list[tuple[int, int]]:
    """The spans of ``text`` marked as the brief's own judgment."""
    ranges = [m.span() for m in OWN_SPAN.finditer(text)]
    depth_open: int | None = None
    depth = 0
    for m in FENCE.finditer(text):
        rest = m.group("rest").strip()
        if rest:  # an opening fence
            depth += 1
            if depth_open is None and OWN_OPEN.match(m.group()):
                depth_open = m.start()
                opened_at = depth
        else:
            if depth_open is not None and depth == opened_at:
                ranges.append((depth_open, m.end()))
                depth_open = None
            depth = max(0, depth - 1)
    if depth_open is not None:
        ranges.append((depth_open, len(text)))
    return ranges


def _blank(text: str) -> str:
    """``text`` with code, citations, span attributes and fences blanked (same offsets)."""
    def blank(m: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))

    text = cit.GROUP.sub(blank, cit.CODE.sub(blank, text))
    text = _OTHER_SCRIPT.sub(blank, text)  # [الإطار التنسيقي]{lang="ar"}
    text = _ATTRS.sub(lambda m: "]" + " " * (len(m.group()) - 1), text)
    text = FENCE.sub(blank, text)
    return _MARKUP.sub(" ", text)


def _check_text(section: Section, text: str, first_line: int,
                item_cites: list[Citation],
                by_place: Mapping[tuple[int, str, str | None], list[Citation]],
                matches: Mapping[Citation, QuoteMatch], sources: Mapping[str, Source],
                table: Names, facts: _PassageFacts, findings: list[Finding],
                notes: dict[Citation, str]) -> None:
    cites, _ = cit.parse(text)
    placed: list[tuple[int, Citation]] = []
    for cite in cites:
        line = first_line + text.count("\n", 0, cite.offset)
        for c in by_place.get((line, cite.key, cite.quote), [])[:1]:
            placed.append((cite.offset, c))
    own = own_ranges(text)
    blanked = _blank(text)
    for start, end in _paragraphs(text):
        in_para = [(at, c) for at, c in placed if start <= at < end]
        # a sentence without its own citation rests on its paragraph's, and on its
        # item's citations: list (which the template prints after the whole text)
        para_cites = unit = [c for _, c in in_para] + list(item_cites)
        spans = list(_sentences(blanked, start, end))
        summary: dict[str, list[str]] = {}
        own_texts: list[str] = []
        for i, (s_start, s_end, sentence) in enumerate(spans):
            mine = [c for at, c in in_para if s_start <= at < s_end
                    or (i + 1 < len(spans) and s_end <= at < spans[i + 1][0]
                        and not blanked[s_end:at].strip())]
            if i + 1 == len(spans):
                mine += [c for at, c in in_para if at >= s_end]
            line = first_line + text.count("\n", 0, s_start)
            is_own = any(a <= s_start < b or a < s_end <= b for a, b in own)
            if is_own:
                own_texts.append(sentence)
                continue
            cited = _cited(mine or para_cites, matches, sources)
            if not cited:
                continue
            result = assess(sentence, cited, table, facts, facts.dated)
            for item, where in result.found:
                summary.setdefault(item, [])
                summary[item] += [w for w in where if w not in summary[item]]
            _report(section, line, sentence, cited, result, facts, findings)
        note = _note(summary, own_texts)
        for c in unit:
            if note and c not in notes:
                notes[c] = note


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    at = 0
    for m in _BLANK_LINE.finditer(text):
        if text[at:m.start()].strip():
            yield at, m.start()
        at = m.end()
    if text[at:].strip():
        yield at, len(text)


def _sentences(blanked: str, start: int, end: int) -> Iterator[tuple[int, int, str]]:
    chunk = blanked[start:end]
    at = 0
    for m in tradecraft.SENTENCE_END.finditer(chunk):
        piece = chunk[at:m.end()]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            yield start + at + lead, start + m.end(), " ".join(piece.split())
        at = m.end()
    piece = chunk[at:]
    if piece.strip():
        lead = len(piece) - len(piece.lstrip())
        yield start + at + lead, end, " ".join(piece.split())


def _cited(cites: Sequence[Citation], matches: Mapping[Citation, QuoteMatch],
           sources: Mapping[str, Source]) -> list[Cited]:
    out: list[Cited] = []
    for c in cites:
        match = matches.get(c)
        if match is not None:
            out.append(Cited(c.key, match.passage, (match.start, match.end)))
            continue
        number = cit.paragraph_number(c.locator)
        source = sources.get(c.key)
        passage = source.passage(number) if source and number else None
        if passage is not None:
            out.append(Cited(c.key, passage, None))
    return out


def _report(section: Section, line: int, sentence: str, cited: Sequence[Cited],
            result: Assessment, facts: _PassageFacts, findings: list[Finding]) -> None:
    shown = {c.label: c for c in cited}
    where = "; ".join(f"{label} “{_short(c.passage.text, 70)}”" for label, c in shown.items())
    own = "or mark the sentence as the brief's own judgment: [sentence]{.own}"
    for number in result.missing_numbers:
        near = [d for c in cited for d in describe(facts.keys(c), number.key)]
        says = f"the passage has {', '.join(dict.fromkeys(near))}; " if near else ""
        findings.append(Finding(
            "warning", section.path, line,
            f"‘{number.text}’ is in none of the cited passages: “{_short(sentence)}” "
            f"(cited: {where})",
            f"{says}correct the number, cite the passage that has it, narrow the claim, "
            f"{own}", "claim.number"))
    for name in result.missing_names:
        findings.append(Finding(
            "warning", section.path, line,
            f"‘{name}’ is named by none of the cited passages: “{_short(sentence)}” "
            f"(cited: {where})",
            "correct the name, cite a passage that names it, add the spelling to "
            f"report/names.yaml if it is an alias, {own}", "claim.name"))
    for c, hedge, whole in result.dropped:
        findings.append(Finding(
            "warning", section.path, line,
            f"the cited passage qualifies this (‘{hedge}’), the sentence does not: "
            f"“{_short(sentence)}” (cited: {c.label} “{_short(whole, 160)}”)",
            "keep the source's qualifier (‘reportedly’, ‘may’, ‘on Rasanah's account’), "
            f"{own}", "claim.hedge-dropped"))


def _note(summary: Mapping[str, list[str]], own: Sequence[str]) -> str:
    """``Found: 2022, Sadr (¶ 14); AAH (¶ 9). The brief's own: “…”`` (the key is
    written only when the claim cites more than one source)."""
    keys = {w.split(" ")[0] for where in summary.values() for w in where}
    by_where: dict[str, list[str]] = {}
    for item, where in summary.items():
        shown = where if len(keys) > 1 else [w.split(" ", 1)[1] for w in where]
        by_where.setdefault(", ".join(shown), []).append(item)
    parts = [f"{', '.join(items)} ({where})" for where, items in by_where.items()]
    text = ("Found: " + "; ".join(parts) + ".") if parts else ""
    if own:
        text += (" " if text else "") + "The brief's own: " + " ".join(
            f"“{_short(s, 90)}”" for s in own)
    return text


def _source_likelihood(section: Section, matches: Mapping[Citation, QuoteMatch],
                       sources: Mapping[str, Source]) -> list[Finding]:
    found = []
    for name in ("judgments", "scenarios"):
        for i, item in enumerate(section.fields.get(name) or []):
            if not isinstance(item, Mapping):
                continue
            who, likelihood = item.get("attribution"), item.get("likelihood")
            if not isinstance(who, str) or who == "brief" or not likelihood:
                continue
            cites = [c for c in section.citations
                     if c.field.startswith(f"{name}/{i}/") and c.key == who]
            cited = _cited(cites, matches, sources)
            if not cited or any(_ESTIMATIVE.search(c.passage.text) for c in cited):
                continue
            said = [source_sentence(c.passage, *c.span) if c.span else c.passage.text
                    for c in cited]
            shown = "; ".join(f"{c.label}: “{_short(text, 160)}”"
                              for c, text in zip(cited, said, strict=True))
            found.append(Finding(
                "warning", section.path, section.line_of(f"{name}/{i}/likelihood"),
                f"the likelihood ‘{likelihood}’ is attributed to '{who}', but the passages "
                f"cited from it make no estimate", f"{shown} — cite the passage where the "
                "source says how likely it is, or make the judgment the brief's own "
                "(attribution: brief)", "claim.source-likelihood"))
    return found


def _short(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"
