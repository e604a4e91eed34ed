"""Analytic tradecraft: the estimative vocabulary (ICD 203) and its rules.

One vocabulary of likelihood terms with their ranges and one of confidence levels;
templates print them, and ``check`` holds scenarios, key judgments and assumptions to
them. Every rule is written down in docs/checks-tradecraft.md.

Errors and warnings. A finding is an **error** when the brief, as written, says
something incoherent or unverifiable that a reader cannot repair for themselves: an
attribution nobody can look up, mutually exclusive scenarios whose chances add up to
more than certainty, two of them "likely", a likelihood and a confidence level in one
sentence (ICD 203 says never, and splitting the sentence always fixes it), a scenario
with nothing to watch for, an assumption tied to a scenario that does not exist, two
scenarios with one id (their anchors collide). A finding is a **warning** when the text
may be deliberate and only the analyst can judge it: an indicator listed under two
scenarios is not diagnostic, but the analyst may keep it on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .. import citations
from ..load.sections import MARKDOWN_FIELDS
from ..model import Entry, Finding, Section, Severity

# term -> (low %, high %), in ICD 203's order.
LIKELIHOOD: dict[str, tuple[int, int]] = {
    "almost no chance": (1, 5),
    "very unlikely": (5, 20),
    "unlikely": (20, 45),
    "roughly even chance": (45, 55),
    "likely": (55, 80),
    "very likely": (80, 95),
    "almost certain": (95, 99),
}

# ICD 203's alternative column, row by row; the brief's fields use the first column.
ALTERNATIVE: dict[str, str] = {
    "almost no chance": "remote",
    "very unlikely": "highly improbable",
    "unlikely": "improbable",
    "roughly even chance": "roughly even odds",
    "likely": "probable",
    "very likely": "highly probable",
    "almost certain": "nearly certain",
}

# Other wordings of each row that ICD 203's columns stand for; the checks read them all
# (a source saying "most probable" has made an estimate; "probably" in a sentence with a
# confidence level mixes the two). The one place the vocabulary is extended.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "almost no chance": ("remote", "almost certainly not", "virtually no chance"),
    "very unlikely": ("highly improbable", "very improbable", "highly unlikely"),
    "unlikely": ("improbable", "improbably", "probably not"),
    "roughly even chance": ("roughly even odds", "even chance", "even odds",
                            "about even", "fifty-fifty"),
    "likely": ("probable", "probably", "most likely", "most probable"),
    "very likely": ("highly probable", "very probable", "highly likely"),
    "almost certain": ("nearly certain", "almost certainly", "virtually certain"),
}

CONFIDENCE: dict[str, str] = {
    "high": "sound argument, consistent reporting from several good sources, few gaps "
            "and assumptions",
    "moderate": "credibly sourced and plausible, but not corroborated enough for more",
    "low": "credibility or plausibility uncertain, information fragmented, dated or "
           "poorly corroborated",
}

# "likely" or stronger: at most one of a set of mutually exclusive scenarios.
STRONG = ("likely", "very likely", "almost certain")

_TERMS = sorted({*LIKELIHOOD, *ALTERNATIVE.values(), *(s for row in SYNONYMS.values()
                                                         for s in row)},
                key=len, reverse=True)
TERM_PATTERN = (r"(?<![\w-])(" + "|".join(r"[\s-]+".join(map(re.escape, re.split(r"[\s-]", t)))
                                           for t in _TERMS) + r")(?![\w-])")
_TERM = re.compile(TERM_PATTERN, re.I)
_LEVEL = r"(high|moderate|low)"
_CONFIDENCE = re.compile(
    rf"(?<![\w-]){_LEVEL}(?:\s+|-)confidence\b"
    rf"|\bconfidence(?:\s+level)?(?:\s+(?:is|was|remains|of))?\s*:?\s+{_LEVEL}(?![\w-])",
    re.I)
# A sentence ends at . ! ? (before white space), a blank line, or a new list item,
# heading, fence or table row.
SENTENCE_END = _SENTENCE_END = re.compile(r"[.!?][\"'”’)\]*_]*(?=\s)|\n[ \t]*\n"
                           r"|\n(?=[ \t]*(?:[-*+][ \t]|\d+[.)][ \t]|#|:::|\|))")


_SPAN_ATTRS = re.compile(r"\]\{[^{}\n]*\}")


def term_range(term: str) -> str:
    """``likely`` → ``55–80%``."""
    low, high = LIKELIHOOD[term]
    return f"{low}–{high}%"


def terms() -> dict[str, str]:
    return {term: term_range(term) for term in LIKELIHOOD}


def attribution_text(attribution: str, authors: Mapping[str, str]) -> str:
    """Whose judgment: the brief's own, or a source's (by its author)."""
    if attribution == "brief":
        return "The brief's own judgment."
    return f"Judgment of the source: {authors.get(attribution, attribution)}."


def estimative() -> dict[str, list[dict[str, str]]]:
    """The explainer's data: the seven terms with ranges, the three confidence levels."""
    return {
        "likelihood": [{"term": t, "alternative": ALTERNATIVE[t], "range": term_range(t)}
                       for t in LIKELIHOOD],
        "confidence": [{"level": level, "definition": text[0].upper() + text[1:] + "."}
                       for level, text in CONFIDENCE.items()],
    }


# --- the checks ----------------------------------------------------------------------


def check(sections: Sequence[Section], entries: Mapping[str, Entry]) -> list[Finding]:
    """Every tradecraft finding for the loaded sections (see the module docstring)."""
    findings: list[Finding] = []
    known = _scenario_ids(sections, findings)
    judgments = _judgment_ids(sections, findings)
    for section in sections:
        if section.kind == "recommendations":
            findings += _recommendations(section, judgments)
        findings += _attributions(section, entries)
        if section.kind == "scenarios":
            findings += _scenario_set(section)
        findings += _assumptions(section, known)
        findings += _mixed_sentences(section)
        findings += _vague(section)
    return findings


def _finding(severity: Severity, section: Section, pointer: str, message: str, hint: str,
             rule: str) -> Finding:
    return Finding(severity, section.path, section.line_of(pointer), message, hint,
                   f"tradecraft.{rule}")


def _suggest(word: str, choices: Sequence[str]) -> str:
    from ..messages import suggest

    return suggest(word, choices)


def _judged(section: Section) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(pointer, label, item) for each key judgment and scenario of a section."""
    for name, label in (("judgments", "judgment"), ("scenarios", "scenario")):
        for i, item in enumerate(section.fields.get(name) or []):
            if isinstance(item, Mapping):
                which = f"'{item['id']}'" if isinstance(item.get("id"), str) else f"{i + 1}"
                yield f"{name}/{i}", f"{label} {which}", item


def _attributions(section: Section, entries: Mapping[str, Entry]) -> list[Finding]:
    found = []
    for pointer, label, item in _judged(section):
        who = item.get("attribution")
        if not isinstance(who, str) or who == "brief" or who in entries:
            continue
        hint = _suggest(who, ["brief", *entries])
        found.append(_finding(
            "error", section, f"{pointer}/attribution",
            f"attribution '{who}' of {label} is neither 'brief' nor a bibliography key",
            hint or "write 'brief' for the brief's own judgment, or the key of the source "
                    "whose judgment it is", "attribution"))
    return found


def _scenario_ids(sections: Sequence[Section], findings: list[Finding]) -> dict[str, str]:
    """Every scenario id in the brief → its title; a repeated id is an error."""
    known: dict[str, str] = {}
    for section in sections:
        for i, s in enumerate(section.fields.get("scenarios") or []
                              if section.kind == "scenarios" else []):
            ident = s.get("id")
            if not isinstance(ident, str):
                continue
            if ident in known:
                findings.append(_finding(
                    "error", section, f"scenarios/{i}/id",
                    f"scenario id '{ident}' is used twice", "give each scenario its own id: "
                    "it names the scenario's anchor and its assumptions' links",
                    "duplicate-id"))
            else:
                known[ident] = str(s.get("title", ident))
    return known


def _judgment_ids(sections: Sequence[Section], findings: list[Finding]) -> dict[str, int]:
    """Every key judgment id in the brief → its number in the key judgments box."""
    known: dict[str, int] = {}
    number = 0
    for section in sections:
        if section.kind != "summary":
            continue
        for i, j in enumerate(section.fields.get("judgments") or []):
            number += 1
            ident = j.get("id") if isinstance(j, Mapping) else None
            if not isinstance(ident, str):
                continue
            if ident in known:
                findings.append(_finding(
                    "error", section, f"judgments/{i}/id",
                    f"key judgment id '{ident}' is used twice", "give each key judgment its "
                    "own id: recommendations name the judgment they rest on by it",
                    "duplicate-id"))
            else:
                known[ident] = number
    return known


def _recommendations(section: Section, judgments: Mapping[str, int]) -> list[Finding]:
    """Each recommendation rests on key judgments that exist."""
    found = []
    for i, r in enumerate(section.fields.get("recommendations") or []):
        for j, ident in enumerate(r.get("rests_on") or [] if isinstance(r, Mapping) else []):
            if ident in judgments:
                continue
            hint = _suggest(ident, list(judgments))
            found.append(_finding(
                "error", section, f"recommendations/{i}/rests_on/{j}",
                f"recommendation {i + 1} rests on key judgment '{ident}', which does not "
                "exist", hint or ("key judgment ids: " + ", ".join(judgments) if judgments
                                  else "give the key judgments of the summary an id: "
                                       "field, and name one here"),
                "recommendation-judgment"))
    return found


def _scenario_set(section: Section) -> list[Finding]:
    """The scenarios of one section are mutually exclusive: hold them to that."""
    found = []
    scenarios = [s for s in section.fields.get("scenarios") or [] if isinstance(s, Mapping)]
    rated = [(i, s) for i, s in enumerate(scenarios) if s.get("likelihood") in LIKELIHOOD]
    total = sum(LIKELIHOOD[s["likelihood"]][0] for _, s in rated)
    if len(rated) > 1 and total > 100:
        parts = " + ".join(f"{s.get('id', i + 1)} {LIKELIHOOD[s['likelihood']][0]}%"
                           for i, s in rated)
        found.append(_finding(
            "error", section, "scenarios",
            f"the lower bounds of these mutually exclusive scenarios add up to {total}%, "
            "more than 100%", f"{parts}: make some of them less likely, or move scenarios "
                              "that can happen together to another section", "likelihood-sum"))
    strong = [(i, s) for i, s in rated if s["likelihood"] in STRONG]
    for i, s in strong[1:]:
        first = strong[0][1]
        found.append(_finding(
            "error", section, f"scenarios/{i}/likelihood",
            f"scenario '{s.get('id', i + 1)}' is '{s['likelihood']}', but so is "
            f"'{first.get('id', 1)}' ('{first['likelihood']}'): at most one of a set of "
            "mutually exclusive scenarios can be likely or stronger",
            "lower one of them to 'roughly even chance' or below", "likely-count"))
    seen: dict[str, tuple[str, int]] = {}
    for i, s in enumerate(scenarios):
        ident = str(s.get("id", i + 1))
        indicators = [x for x in s.get("indicators") or [] if isinstance(x, str)]
        if not any(x.strip() for x in indicators):
            found.append(_finding(
                "error", section, f"scenarios/{i}",
                f"scenario '{ident}' has no indicator: nothing would tell the reader it is "
                "unfolding", "list under indicators: at least one observable sign that "
                             "points to this scenario and not to the others", "no-indicator"))
        for j, text in enumerate(indicators):
            norm = " ".join(text.casefold().split()).rstrip(".")
            if not norm:
                continue
            if norm in seen and seen[norm][0] != ident:
                other, line = seen[norm]
                found.append(_finding(
                    "warning", section, f"scenarios/{i}/indicators/{j}",
                    f"indicator “{text.strip()}” of scenario '{ident}' is also an indicator of "
                    f"'{other}' (line {line}): it does not tell them apart",
                    "keep indicators that point to one scenario only, or say what would "
                    "differ between the two", "indicator-not-diagnostic"))
            elif norm not in seen:
                seen[norm] = (ident, section.line_of(f"scenarios/{i}/indicators/{j}"))
    return found


def _assumptions(section: Section, known: Mapping[str, str]) -> list[Finding]:
    found = []
    for i, a in enumerate(section.fields.get("assumptions") or []):
        for j, ident in enumerate(a.get("scenarios") or [] if isinstance(a, Mapping) else []):
            if ident in known:
                continue
            hint = _suggest(ident, list(known))
            found.append(_finding(
                "error", section, f"assumptions/{i}/scenarios/{j}",
                f"assumption '{a.get('id', i + 1)}' names scenario '{ident}', which does "
                "not exist", hint or ("scenario ids: " + ", ".join(known) if known else
                                      "the brief has no scenarios section"),
                "assumption-scenario"))
    return found


# --- likelihood and confidence in one sentence ---------------------------------------


def markdown_texts(section: Section) -> Iterator[tuple[str, str, int]]:
    """(pointer, text, the line its text starts on) for the body (pointer "") and every
    Markdown text field."""
    yield "", section.body, section.body_line

    def walk(data: Any, pointer: str) -> Iterator[tuple[str, str, int]]:
        if isinstance(data, Mapping):
            for key, value in data.items():
                child = f"{pointer}/{key}" if pointer else str(key)
                if key in MARKDOWN_FIELDS and isinstance(value, str):
                    # where sections.py read the text (a block scalar starts on the line
                    # after its key, even when it holds one line)
                    yield child, value, section.text_lines.get(child, section.line_of(child))
                elif key != "citations":
                    yield from walk(value, child)
        elif isinstance(data, list):
            for i, value in enumerate(data):
                yield from walk(value, f"{pointer}/{i}")

    yield from walk(section.fields, "")


def texts(section: Section) -> Iterator[tuple[str, int]]:
    """The body and every Markdown text field, each with the line its text starts on."""
    for _, text, line in markdown_texts(section):
        yield text, line


def sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) for the sentences of a Markdown text, code blanked out."""
    def blank(m: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))

    text = citations.GROUP.sub(blank, citations.CODE.sub(blank, text))
    # "[A sentence.]{.own}": the attributes after a span do not hide its end
    text = _SPAN_ATTRS.sub(lambda m: "]" + " " * (len(m.group()) - 1), text)
    start = 0
    for m in _SENTENCE_END.finditer(text):
        yield from _piece(text, start, m.end())
        start = m.end()
    yield from _piece(text, start, len(text))


def _piece(text: str, start: int, end: int) -> Iterator[tuple[int, str]]:
    chunk = text[start:end]
    stripped = chunk.lstrip()
    if stripped.strip():
        yield start + len(chunk) - len(stripped), " ".join(stripped.split())


def mixed(sentence: str) -> tuple[str, str] | None:
    """(likelihood term, confidence phrase) when a sentence has both, else None."""
    term, level = _TERM.search(sentence), _CONFIDENCE.search(sentence)
    if term and level:
        return " ".join(term.group(1).split()).lower(), " ".join(level.group(0).split())
    return None


def _mixed_sentences(section: Section) -> list[Finding]:
    found = []
    for text, first_line in texts(section):
        for offset, sentence in sentences(text):
            pair = mixed(sentence)
            if pair is None:
                continue
            line = first_line + text.count("\n", 0, offset)
            found.append(Finding(
                "error", section.path, line,
                f"this sentence gives both a likelihood (‘{pair[0]}’) and a confidence level "
                f"(‘{pair[1]}’)", "likelihood is about the event, confidence about the "
                "basis of the judgment: say them in two sentences, or put the confidence in "
                "the confidence field", "tradecraft.likelihood-with-confidence"))
    return found


# --- vague estimative wording in a judgment ------------------------------------------

_VAGUE = re.compile(r"\b(?:possibly|perhaps|maybe|conceivably|(?:could|might|may)\s+well|"
                    r"there\s+is\s+(?:a|some)\s+(?:good\s+|real\s+|small\s+|slight\s+)?"
                    r"chance|it\s+is\s+(?:just\s+)?possible\s+that)\b", re.I)


def _vague(section: Section) -> list[Finding]:
    """Key judgments and scenario narratives that hedge with words off the scale."""
    found = []
    for pointer, label, item in _judged(section):
        name = "narrative" if "narrative" in item else "text"
        text = item.get(name)
        if not isinstance(text, str):
            continue
        line = section.line_of(f"{pointer}/{name}")
        first = line + 1 if "\n" in text else line
        for offset, sentence in sentences(text):
            word = _VAGUE.search(sentence)
            if word is None:
                continue
            words = " ".join(word.group().split())
            shown = sentence if len(sentence) <= 100 else sentence[:99] + " …"
            found.append(Finding(
                "warning", section.path, first + text.count("\n", 0, offset),
                f"vague estimative wording ‘{words}’ in {label}: “{shown}”",
                "say how likely in the terms of the scale: " + ", ".join(
                    f"{t} ({term_range(t)})" for t in LIKELIHOOD), "tradecraft.vague-likelihood"))
    return found
