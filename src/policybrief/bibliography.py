"""Stage 2, load the bibliography: ``bibliography.bib`` read and checked by bibtexparser 2.

bibtexparser collects what it cannot parse and logs it; pandoc rejects a whole file on
one bad brace, refuses ``@article(…)`` and silently keeps the last of two duplicate
keys. So the file is checked here, before pandoc ever sees it, and every problem is an
error at its own line.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from . import links
from .confine import KEY, KEY_HINT, safe_key
from .errors import BriefError, ContentError
from .model import Entry, Finding

__all__ = ["KEY", "load_bibliography"]

MONTHS = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}


def load_bibliography(path: Path, rel: str) -> dict[str, Entry]:
    """All entries by key. Raises ContentError listing every problem in the file."""
    import bibtexparser
    from bibtexparser.model import DuplicateBlockKeyBlock

    from . import textfile

    try:
        text = textfile.read(path, rel, "the bibliography")
    except FileNotFoundError:
        raise BriefError("the bibliography file is missing", rel, 1,
                         hint="create bibliography.bib, or add a source with "
                              "'brief sources add'", rule="bibliography.missing") from None
    # bibtexparser logs what it cannot parse; the same problems are reported below.
    quiet = logging.getLogger("bibtexparser")
    level, quiet.level = quiet.level, logging.CRITICAL
    try:
        library = bibtexparser.parse_string(text, parse_stack=[])
    finally:
        quiet.setLevel(level)
    findings: list[Finding] = []

    def error(line: int, message: str, hint: str = "", rule: str = "bibliography") -> None:
        findings.append(Finding("error", rel, line, message, hint, rule))

    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, DuplicateBlockKeyBlock):
            error(line, f"duplicate key '{block.key}'", "each entry needs its own key")
        else:
            error(line, "this entry does not parse (an unbalanced brace or a missing comma?)",
                  "check that every { has its } and fields are separated by commas")
    macros = {s.key.lower() for s in library.strings}
    entries: dict[str, Entry] = {}
    seen: dict[str, Entry] = {}
    for raw in library.entries:
        line = (raw.start_line or 0) + 1
        raw_text = raw.raw or ""
        key = raw.key.strip()
        if not key:
            error(line, "entry has an empty key", "write a key after the brace: @report{key,")
            continue
        if not safe_key(key):
            error(line, f"key '{key}' has characters a key may not have", KEY_HINT)
            continue
        if re.match(r"@\w+\s*\(", raw_text.lstrip()):
            error(line, f"entry '{key}' uses the @type(…) form, which pandoc rejects",
                  f"write @{raw.entry_type}{{{key}, …}} with braces")
            continue
        folded = key.lower()
        if folded in seen and seen[folded].key != key:
            error(line, f"key '{key}' differs only in case from '{seen[folded].key}' "
                        f"(line {seen[folded].line})", "keys are case-sensitive in pandoc "
                        "but not in BibTeX: rename one")
            continue
        fields: dict[str, str] = {}
        for name, field in raw.fields_dict.items():
            value, undefined = _value(str(field.value), macros)
            if undefined:
                error(line + _offset(raw_text, name),
                      f"field '{name}' of '{key}' uses the undefined macro '{undefined}'",
                      "put text in braces: " + f"{name} = {{{undefined}}}")
            fields[name.lower()] = value
            problem = links.url_field_problem(name.lower(), value)
            if problem is not None:
                findings.append(Finding("error", rel, line + _offset(raw_text, name),
                                        f"field '{name}' of '{key}': {problem}", links.HINT,
                                        links.RULE))
        for name in DATE_FIELDS:
            if name in fields:
                problem = date_problem(fields[name], year_only=name == "year")
                if problem:
                    error(line + _offset(raw_text, name),
                          f"field '{name}' of '{key}' is not a valid date: {problem}",
                          "write YYYY-MM-DD, YYYY-MM or YYYY (a range as start/end)"
                          if name != "year" else "write the year as four digits",
                          "bibliography.date")
        if "title" not in fields:
            error(line, f"entry '{key}' has no title", "add title = {…}")
        offsets = {name.lower(): _offset(raw_text, name) for name in raw.fields_dict}
        entry = Entry(key, raw.entry_type.lower(), fields, rel, line, offsets)
        seen[folded] = entry
        if key not in entries:
            entries[key] = entry
    if findings:
        raise ContentError(sorted(findings, key=lambda f: f.line))
    return entries


DATE_FIELDS = ("date", "year", "urldate", "eventdate", "origdate")
_DAY = re.compile(r"(-?\d{4})(?:-(\d{2})(?:-(\d{2}))?)?[?~%]?")


def date_problem(value: str, year_only: bool = False) -> str:
    """What is wrong with a BibLaTeX date (ISO 8601 and the EDTF subset BibLaTeX reads:
    ``2022``, ``2022-06``, ``2022-06-26``, ``2022?``/``~``/``%``, ranges ``a/b`` with an
    open end ``..`` or empty); "" when nothing is."""
    import datetime as dt

    text = value.strip()
    if not text:
        return "it is empty"
    if year_only:
        return "" if re.fullmatch(r"-?\d{4}", text) else f"'{text}' is not a four-digit year"
    parts = text.split("/")
    if len(parts) > 2:
        return f"'{text}' has more than one '/'"
    if len(parts) == 2 and all(p in ("", "..") for p in parts):
        return f"'{text}' is a range with no end at all"
    days = []
    for part in parts:
        if len(parts) == 2 and part in ("", ".."):
            continue
        m = _DAY.fullmatch(part)
        if not m:
            return f"'{part}' is not YYYY, YYYY-MM or YYYY-MM-DD"
        year, month, day = m.groups()
        if month and not 1 <= int(month) <= 12:
            return f"'{part}' has no month {month}"
        if day:
            try:
                dt.date(int(year), int(month), int(day))
            except ValueError:
                return f"'{part}' is not a day of the calendar"
        days.append((int(year), int(month or 0), int(day or 0)))
    if len(days) == 2 and days[0] > days[1]:
        return f"'{text}' ends before it starts"
    return ""


def _value(raw: str, macros: set[str]) -> tuple[str, str]:
    """The field's text without its outer delimiters, and an undefined macro if any."""
    parts = [p.strip() for p in _split_concat(raw)]
    out = []
    for part in parts:
        if len(part) >= 2 and (part[0], part[-1]) in (("{", "}"), ('"', '"')):
            out.append(part[1:-1])
        elif part.isdigit() or part.lower() in MONTHS or part.lower() in macros:
            out.append(part)
        else:
            return raw, part
    return "".join(out), ""


def _split_concat(raw: str) -> list[str]:
    """Split ``a # {b} # "c"`` on the ``#`` outside braces and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(raw):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == "#" and depth == 0 and not quoted:
            parts.append(raw[start:i])
            start = i + 1
    parts.append(raw[start:])
    return parts


def _offset(raw: str, field: str) -> int:
    """How many lines into the entry ``field`` is given."""
    match = re.search(rf"(?im)(^|[,{{])[ \t]*{re.escape(field)}[ \t]*=", raw)
    return raw[: match.end()].count("\n") if match else 0
