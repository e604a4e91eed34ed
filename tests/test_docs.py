"""The documentation stays true to the code: docs/cli.md documents every command and
option of `brief` and nothing else; docs/sections.md lists every field of the schemas."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from policybrief.commands.cli import cli

DOCS = Path(__file__).resolve().parent.parent / "docs"
HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<text>.*?)\s*$")
COMMAND = re.compile(r"^`brief(?P<path>(?: [a-z][a-z0-9-]*)*)`$")
# An option is documented by `--name` in backticks; `brief x --name` names another
# command's option and is not counted.
OPTION = re.compile(r"`(--[a-z][a-z0-9-]*)")


def commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], click.Command]]:
    """Every command of the tree, groups included, with its path of names."""
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from commands(sub, (*path, name))


def long_options(command: click.Command) -> set[str]:
    names = set()
    for param in command.params:
        if isinstance(param, click.Option):
            names.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("--"))
    return names - {"--help"}


def documented(text: str) -> dict[tuple[str, ...], set[str]]:
    """Command path → the long options mentioned in its section of docs/cli.md."""
    found: dict[tuple[str, ...], set[str]] = {}
    current: tuple[str, ...] | None = None
    level = 0
    fenced = False
    for line in text.split("\n"):
        if line.startswith("```"):
            fenced = not fenced
        heading = None if fenced else HEADING.match(line)
        if heading:
            command = COMMAND.match(heading["text"])
            if command:
                current = tuple(command["path"].split())
                level = len(heading["level"])
                assert current not in found, f"docs/cli.md: `brief {' '.join(current)}` twice"
                found[current] = set()
                continue
            if current is not None and len(heading["level"]) <= level:
                current = None
        if current is not None:
            found[current].update(OPTION.findall(line))
    return found


def test_every_command_and_option_is_documented() -> None:
    docs = documented((DOCS / "cli.md").read_text("utf-8"))
    tree = dict(commands(cli))
    missing = [" ".join(("brief", *p)) for p in tree if p not in docs]
    assert not missing, f"docs/cli.md has no heading for: {', '.join(missing)}"
    undocumented = {" ".join(("brief", *p)): sorted(long_options(c) - docs[p])
                    for p, c in tree.items() if long_options(c) - docs[p]}
    assert not undocumented, f"options not documented in docs/cli.md: {undocumented}"


def test_nothing_documented_that_does_not_exist() -> None:
    docs = documented((DOCS / "cli.md").read_text("utf-8"))
    tree = dict(commands(cli))
    unknown = [" ".join(("brief", *p)) for p in docs if p not in tree]
    assert not unknown, f"docs/cli.md documents commands that do not exist: {unknown}"
    stale = {" ".join(("brief", *p)): sorted(opts - long_options(tree[p]) - {"--help"})
             for p, opts in docs.items() if opts - long_options(tree[p]) - {"--help"}}
    assert not stale, f"docs/cli.md documents options that do not exist: {stale}"


def test_the_parser_sees_what_it_should() -> None:
    text = """
## `brief`
- `--project DIR`
## `brief build`
Options: `--format`, `--strict`. See also `brief check --fix-locators`.
```text
## `brief fake`  (in a code block: not a heading)
```
## Exit statuses
`--ignored` outside any command section.
### `brief sources add`
`--key`
"""
    assert documented(text) == {(): {"--project"}, ("build",): {"--format", "--strict"},
                                ("sources", "add"): {"--key"}}


# --- docs/sections.md against the JSON Schemas ---------------------------------------

SCHEMAS = Path(__file__).resolve().parent.parent / "src" / "policybrief" / "schemas"
MARKER = re.compile(r"^<!-- schema (?P<name>[a-z]+)(?: (?P<part>[a-z_]+))? -->$")
ROW = re.compile(r"^\| `(?P<field>[a-z_]+)` \| (?P<need>required|optional) \|")


def schema_tables() -> dict[tuple[str, str], dict[str, bool]]:
    """(schema, part) → field → required, for every table the schemas imply."""
    tables: dict[tuple[str, str], dict[str, bool]] = {}
    section = json.loads((SCHEMAS / "section.json").read_text("utf-8"))
    for name, definition in section["$defs"].items():
        if "properties" in definition:
            required = set(definition.get("required", ()))
            tables[("section", name)] = {f: f in required for f in definition["properties"]}
    brief = json.loads((SCHEMAS / "brief.json").read_text("utf-8"))
    tables[("brief", "")] = {f: f in brief["required"] for f in brief["properties"]}
    nested = {"series": brief["properties"]["series"],
              "authors": brief["properties"]["authors"]["items"]}
    for part, definition in nested.items():
        required = set(definition.get("required", ()))
        tables[("brief", part)] = {f: f in required for f in definition["properties"]}
    return tables


def doc_tables() -> dict[tuple[str, str], dict[str, bool]]:
    tables: dict[tuple[str, str], dict[str, bool]] = {}
    current: dict[str, bool] | None = None
    for line in (DOCS / "sections.md").read_text("utf-8").split("\n"):
        marker = MARKER.match(line.strip())
        if marker:
            current = tables.setdefault((marker["name"], marker["part"] or ""), {})
            continue
        if current is None:
            continue
        if not line.startswith("|"):
            if line.strip():
                current = None
            continue
        row = ROW.match(line)
        if row:
            current[row["field"]] = row["need"] == "required"
    return tables


@pytest.mark.parametrize("table", sorted(schema_tables()), ids=lambda t: " ".join(t).strip())
def test_sections_md_documents_every_schema_field(table: tuple[str, str]) -> None:
    docs = doc_tables()
    assert table in docs, f"docs/sections.md has no table marked <!-- schema {' '.join(table).strip()} -->"
    assert docs[table] == schema_tables()[table]


def anchors(page: Path) -> set[str]:
    """The ids GitHub gives the headings of a Markdown page, and its explicit
    ``<a id="…"></a>`` anchors (one per rule in checks.md)."""
    text = page.read_text("utf-8")
    found = set(re.findall(r'<a id="([^"]+)"></a>', text))
    fenced = False
    for line in text.split("\n"):
        fenced = fenced != line.startswith("```")
        heading = None if fenced else HEADING.match(line)
        if heading:
            found.add(re.sub(r"[^\w\- ]", "", heading["text"].lower()).replace(" ", "-"))
    return found


def test_docs_link_to_pages_and_headings_that_exist() -> None:
    for page in DOCS.glob("*.md"):
        text = page.read_text("utf-8")
        for target, anchor in re.findall(r"\]\(([a-z-]*(?:\.md)?)(?:#([a-z0-9.-]+))?\)", text):
            linked = DOCS / target if target else page
            assert linked.is_file(), f"{page.name} links to {target}, which does not exist"
            if anchor:
                assert anchor in anchors(linked), f"{page.name} links to {target}#{anchor}"
