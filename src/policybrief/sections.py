"""Stage 3, load the brief: ``report/brief.yaml`` and the section files it lists.

Each section is Markdown with YAML front matter; the front matter is checked against
the schema of its kind, and every citation in it (in the body, in Markdown fields such
as an item's ``text``, and in structured ``citations`` lists) is read with its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from . import citations as cit
from . import confine, frontmatter, house, links, schemas, textfile
from .errors import BriefError, UsageError
from .model import Citation, Finding, Meta, Project, Section
from .sources import slugify

MARKDOWN_FIELDS = ("text", "narrative", "if_wrong", "action")
# pandoc's Markdown reader is exponential on deep nesting (12 brackets took 26 s);
# nothing a brief needs comes close to these.
MAX_BRACKETS = 5
MAX_LIST_DEPTH = 10
LIST_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+]|\d+[.)])[ \t]")


def load_meta(project: Project) -> tuple[Meta, list[Finding]]:
    path = project.report / "brief.yaml"
    rel = project.rel(path)
    if not path.is_file():
        raise UsageError(f"no brief project in {project.root}: report/brief.yaml is missing",
                         hint="run 'brief init DIR' to start one, or pass -C DIR")
    shared, shared_lines, findings = house.read_shared(project)
    try:
        doc = frontmatter.parse(textfile.read(path, rel), rel)
    except BriefError as exc:
        # Go on with every section file, so that their problems are reported too.
        findings.append(exc.finding())
        names = [p.name for p in sorted(project.sections_dir.glob("*.md"))]
        return Meta(rel, {"sections": names}, {}), findings
    data, origin = house.merge(doc.data, doc.lines, rel, shared, shared_lines,
                               project.rel(project.report / house.FILE))
    # when _house.yaml cannot be read, what it would give is not reported missing here
    unread = house.SHARED if any(f.path.endswith(house.FILE) and f.rule.startswith(
        ("yaml.", "encoding", "file.")) for f in findings) else ()
    findings += schemas.validate(doc.data, doc.lines, rel, "brief",
                                 provided=[*(k for k in data if k not in doc.data), *unread],
                                 cols=doc.cols)
    findings += house.shadowed(doc.data, doc.lines, rel, shared, shared_lines,
                               project.rel(project.report / house.FILE))
    findings += _ignore_list(data.get("ignore"), doc.lines, rel)
    # pandoc reads the title, subtitle and author names as Markdown: their links are
    # held to the link policy here, at their lines
    findings += links.field_findings(doc.data, doc.lines, rel)
    if shared:
        findings += links.field_findings(shared, shared_lines,
                                         project.rel(project.report / house.FILE))
    for name in ("date", "cutoff"):
        date = data.get(name)
        if isinstance(date, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            problem = calendar_date(date)
            if problem:
                findings.append(Finding("error", rel, doc.lines.get(name, 1),
                                        f"'{date}' is not a date: {problem}",
                                        "write a real calendar date, YYYY-MM-DD",
                                        "schema.date"))
    return Meta(rel, data, doc.lines, origin), findings


def _ignore_list(names: Any, lines: Mapping[str, int], rel: str) -> list[Finding]:
    """``ignore:`` may name warning rules only."""
    from .messages import check_ignorable

    found = []
    for i, name in enumerate(names if isinstance(names, list) else []):
        why = check_ignorable(str(name)) if isinstance(name, str) else ""
        if why:
            found.append(Finding("error", rel, lines.get(f"ignore/{i}", lines.get("ignore", 1)),
                                 why, "list only warning rules under ignore: (docs/checks.md "
                                 "marks each rule error or warning)", "config.ignore"))
    return found


FIRST_YEAR, LAST_YEAR = 1000, 9998  # the brief's date, with room for a year either side


def calendar_date(text: str) -> str:
    """"" when ``text`` (YYYY-MM-DD) is a real day in a year the outputs can print,
    else what is wrong."""
    import datetime as dt

    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        return str(exc)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        return f"the year must be between {FIRST_YEAR} and {LAST_YEAR}"
    return ""


def load_sections(project: Project, meta: Meta) -> tuple[tuple[Section, ...], list[Finding]]:
    """The sections in the order ``brief.yaml`` gives, and what is wrong with them."""
    findings: list[Finding] = []
    sections: list[Section] = []
    slugs: set[str] = set()
    listed = meta.get("sections") or []
    for i, name in enumerate(listed):
        if not isinstance(name, str):
            continue
        path = project.sections_dir / name
        line = meta.lines.get(f"sections/{i}", 1)
        if confine.inside(project, path, ("report",)) is None or "\\" in name:
            findings.append(Finding("error", meta.path, line,
                                    f"section file '{name}' is outside report/sections/",
                                    "list the file's name in report/sections/, no folders",
                                    "sections.missing"))
            continue
        if not path.is_file():
            present = sorted(p.name for p in project.sections_dir.glob("*.md"))
            findings.append(Finding("error", meta.path, line,
                                    f"section file 'report/sections/{name}' does not exist",
                                    schemas.suggest(name, present) or "create it with 'brief "
                                    "new-section KIND TITLE', or remove this line",
                                    "sections.missing"))
            continue
        section, problems = read_section(path, project.rel(path))
        findings.extend(problems)
        if section is None:
            continue
        slug = section.slug
        while slug in slugs:
            slug += "-2"
        slugs.add(slug)
        if slug != section.slug:
            section = Section(**{**section.__dict__, "slug": slug})
        sections.append(section)
    for path in sorted(project.sections_dir.glob("*.md")):
        if path.name not in listed:
            findings.append(Finding("warning", project.rel(path), 1,
                                    "this section file is not listed in report/brief.yaml, "
                                    "so it is not built", f"add '{path.name}' under sections:",
                                    "sections.unlisted"))
    return tuple(sections), findings


def read_section(path: Path, rel: str) -> tuple[Section | None, list[Finding]]:
    try:
        text = textfile.read(path, rel)
        doc, body, body_line = frontmatter.split(text, rel)
    except BriefError as exc:  # reported with the other files' problems
        return None, [exc.finding()]
    body = strip_comments(body)
    data = doc.data
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in schemas.KINDS:
        line = doc.lines.get("kind", 2)
        what = f"unknown section kind '{kind}'" if kind else "the front matter has no 'kind'"
        hint = schemas.suggest(kind, schemas.KINDS) if kind else ""
        return None, [Finding("error", rel, line, what,
                              hint or "kinds: " + ", ".join(schemas.KINDS), "sections.kind")]
    if data.get("status") == "stub":  # left out, and not checked, until it is filled in
        return None, [stub_finding(data, doc.lines, rel)]
    findings = schemas.validate(data, doc.lines, rel, "section", kind, cols=doc.cols)
    if findings:
        return None, findings
    title = str(data["title"])
    section = Section(rel, 1, kind, title, slugify(title), data, doc.lines, body, body_line)
    cites, problems, starts = _citations(section, text.split("\n"))
    return Section(**{**section.__dict__, "citations": tuple(cites),
                      "text_lines": starts}), problems


COMMENT = re.compile(r"<!--.*?-->", re.S)


def strip_comments(body: str) -> str:
    """The body without HTML comments (notes to the writers, such as a stub's), each
    replaced by its line breaks so that every line keeps its number; comments shown in
    code are kept."""
    code = [m.span() for m in cit.CODE.finditer(body)]

    def blank(m: re.Match[str]) -> str:
        if any(a <= m.start() < b for a, b in code):
            return m.group(0)
        return "\n" * m.group(0).count("\n")

    return COMMENT.sub(blank, body) if "<!--" in body else body


def stub_finding(data: Mapping[str, Any], lines: Mapping[str, int], rel: str) -> Finding:
    """The warning for a section whose front matter says ``status: stub``."""
    title = data.get("title") if isinstance(data.get("title"), str) else rel
    return Finding("warning", rel, lines.get("status", 1),
                   f"section '{title}' is still a stub, so it is left out of the build",
                   "fill it in (its comments say what belongs there), then delete the line "
                   "'status: stub'", "section.stub")


BLOCK_SCALAR = re.compile(r"(?::|^[ \t]*-)[ \t]+[|>][1-9+-]{0,2}[ \t]*(?:#.*)?$")


def _citations(section: Section, rows: list[str]) -> tuple[
        list[Citation], list[Finding], dict[str, int]]:
    found: list[Citation] = []
    problems: list[Finding] = []
    starts: dict[str, int] = {}

    def read(text: str, first_line: int, where: str, pointer: str) -> None:
        problems.extend(nesting(text, first_line, section.path))
        cites, wrong = cit.parse(text)
        for cite in cites:
            line = first_line + text.count("\n", 0, cite.offset)
            found.append(Citation(cite.key, cite.locator, cite.quote, section.path, line,
                                  where, _claim(text, cite.offset), pointer))
        for problem in wrong:
            line = first_line + text.count("\n", 0, problem.offset)
            problems.append(Finding("error", section.path, line, problem.message,
                                    problem.hint, "citations.syntax"))

    read(section.body, section.body_line, section.title, "")
    for pointer, value, label in _walk(section.fields):
        name = pointer.rpartition("/")[2]
        where = f"{section.title} › {label}" if label else section.title
        if name in MARKDOWN_FIELDS and isinstance(value, str):
            line = section.line_of(pointer)
            # A block scalar (text: |) starts on the line after its key, even when it
            # holds a single line.
            block = 0 < line <= len(rows) and BLOCK_SCALAR.search(rows[line - 1])
            first = line + 1 if block else line
            starts[pointer] = first
            read(value, first, where, pointer)
        elif name == "citations" and isinstance(value, list):
            claim = _item_claim(section.fields, pointer)
            for j, ref in enumerate(value):
                ref_pointer = f"{pointer}/{j}"
                line = section.line_of(f"{ref_pointer}/quote") if "quote" in ref \
                    else section.line_of(ref_pointer)
                found.append(Citation(ref["key"], ref.get("locator"), _squash(ref.get("quote")),
                                      section.path, line, where, claim, ref_pointer,
                                      section.line_of(f"{ref_pointer}/key")))
    return found, problems, starts


def nesting(text: str, first_line: int, path: str) -> list[Finding]:
    """Brackets or lists nested deeper than any brief needs (pandoc would hang on them)."""
    found = []
    depth, line = 0, first_line
    escaped = False
    # depth can only pass MAX_BRACKETS with more than MAX_BRACKETS "[" in the text
    for ch in text if text.count("[") > MAX_BRACKETS else "":
        if ch == "\n":
            line += 1
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            depth += 1
            if depth == MAX_BRACKETS + 1:
                found.append(Finding("error", path, line, f"brackets nested more than "
                                     f"{MAX_BRACKETS} deep", "simplify the text; escape a "
                                     "literal bracket as \\[", "sections.nesting"))
        elif ch == "]":
            depth = max(0, depth - 1)
    for offset, row in enumerate(text.split("\n")):
        quotes = len(row) - len(row.lstrip("> "))
        item = LIST_ITEM.match(row)
        levels = len(item.group("indent").expandtabs(4)) // 2 + 1 if item else 0
        if max(levels, row[:quotes].count(">")) > MAX_LIST_DEPTH:
            found.append(Finding("error", path, first_line + offset,
                                 f"lists or quotes nested more than {MAX_LIST_DEPTH} deep",
                                 "flatten the list", "sections.nesting"))
            break
    return found


def _squash(text: str | None) -> str | None:
    return " ".join(text.split()) if text else None


def _walk(data: Any, pointer: str = "", label: str = "") -> Iterator[tuple[str, Any, str]]:
    """(pointer, value, label of the nearest titled item) for every value."""
    if isinstance(data, Mapping):
        if isinstance(data.get("title"), str) and pointer:
            label = data["title"]
        for key, value in data.items():
            child = f"{pointer}/{key}" if pointer else key
            yield child, value, label
            if key != "citations":
                yield from _walk(value, child, label)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            item_label = label
            if isinstance(value, Mapping) and pointer.endswith("judgments"):
                item_label = f"judgment {i + 1}"
            yield from _walk(value, f"{pointer}/{i}", item_label)


def _item_claim(fields: Mapping[str, Any], pointer: str) -> str:
    node: Any = fields
    for part in pointer.split("/")[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    for name in ("text", "narrative"):
        if isinstance(node, Mapping) and isinstance(node.get(name), str):
            return _plain(node[name])
    return ""


def _claim(text: str, offset: int) -> str:
    """The paragraph around ``offset``, without citations or markup, for reports."""
    start = text.rfind("\n\n", 0, offset) + 1
    end = text.find("\n\n", offset)
    return _plain(text[start: end if end >= 0 else len(text)])


def _plain(text: str) -> str:
    # "scarcity [@key]." → "scarcity." (no space left before the stop)
    text = re.sub(r"[ \t]*" + cit.GROUP.pattern, "", text)
    text = re.sub(r"(?m)^[ \t]*:{3,}.*$", "", text)  # fenced div lines (::: own)
    text = re.sub(r"\[([^\]]*)\]\{[^}]*\}", r"\1", text)
    text = re.sub(r"[*_`]", "", text)
    text = " ".join(text.split())
    return text if len(text) <= 280 else text[:277].rsplit(" ", 1)[0] + " …"
