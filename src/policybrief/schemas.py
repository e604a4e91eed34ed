"""Validation of YAML documents against the packaged JSON Schemas.

jsonschema finds the problems; this module says them the way an analyst needs them:
at the field's own line, in words, with a did-you-mean for misspelt names and terms.

A document found valid is remembered in build/.cache/schemas (:func:`remember`): the
next build that reads the same document, against the same schema, takes it as valid
without validating it again (nor importing jsonschema, a tenth of a second of a rebuild).
What is remembered is a digest of the schema, the document and that folder's identity
(kept.py), so that nothing copied in from elsewhere ever counts; it is written only by
a build that publishes (:func:`keep_valid`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from . import kept
from .messages import suggest as suggest  # here too: the schemas' did-you-mean
from .model import Finding

PATTERN_HINTS = {
    "date": "write dates as \"YYYY-MM-DD\"",
    "cutoff": "write dates as \"YYYY-MM-DD\"",
    "language": "a language tag such as \"en-GB\"",
    "id": "lower-case letters, digits and hyphens",
    "accent": "a colour as \"#RRGGBB\", e.g. \"#1f4e79\"",
    "serif": "a font family name: letters, digits, spaces",
    "sans": "a font family name: letters, digits, spaces",
}
KINDS = ("summary", "background", "motives", "opportunities", "challenges", "scenarios",
         "implications", "recommendations", "method")


@cache
def load(name: str) -> dict[str, Any]:
    """A packaged schema by name (``section``, ``brief``, ``timeline``, ``actors``)."""
    text = resources.files("policybrief").joinpath("schemas", f"{name}.json").read_text("utf-8")
    return dict(json.loads(text))


@cache
def _validator(name: str, definition: str | None) -> Any:
    from jsonschema import Draft202012Validator

    schema = load(name)
    if definition:
        schema = {**schema, "$ref": f"#/$defs/{definition}"}
    return Draft202012Validator(schema)


LARGEST_MEMO = 2**20
VALID = "valid"  # the file of build/.cache/schemas holding the digests


@dataclass
class _Memo:
    """The digests of the documents found valid before, and what the digests of those
    found valid now are made of (the folder's identity aside: it may not exist yet)."""

    folder: Path
    valid: set[str] = field(default_factory=set)
    found: set[str] = field(default_factory=set)
    identity: str = ""  # of the folder, as the last build left it ("" if none)

    def digest(self, identity: str, material: str) -> str:
        return hashlib.sha256(f"{identity}\0{material}".encode()).hexdigest()


_MEMO: list[_Memo] = []


def remember(folder: Path | None) -> None:
    """Take documents found valid by the builds in ``folder`` as valid (None: none)."""
    _MEMO.clear()
    if folder is None:
        return
    memo = _Memo(folder)
    with contextlib.suppress(OSError, ValueError, TypeError, RecursionError):
        memo.identity = kept.identity(folder, make=False)
        listed = json.loads(kept.read(folder / VALID, LARGEST_MEMO))
        if isinstance(listed, list):
            memo.valid = {d for d in listed if isinstance(d, str)}
    _MEMO.append(memo)


def keep_valid() -> None:
    """Write the digests of the documents found valid by this build (and of those it
    took as valid), replacing the last build's: a full disk, validated again next time.
    (Under build/'s lock: the temporary files of a killed build's write go here too.)"""
    if not _MEMO or not _MEMO[0].found:
        return
    memo = _MEMO[0]
    with contextlib.suppress(OSError):
        identity = kept.identity(memo.folder)
        digests = sorted({memo.digest(identity, m) for m in memo.found})
        kept.write(memo.folder / VALID, json.dumps(digests).encode())
        kept.clear(memo.folder, lambda name: name in (kept.MADE, VALID))


def _material(data: Mapping[str, Any], name: str, definition: str | None,
              provided: Collection[str]) -> str | None:
    """What decides the validation of ``data`` (None: not said in JSON)."""
    try:
        return json.dumps([name, definition or "", sorted(provided), _schema_digest(name),
                           data], sort_keys=True, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None


@cache
def _schema_digest(name: str) -> str:
    """The digest of a packaged schema (once per process, not once per document)."""
    return hashlib.sha256(json.dumps(load(name), sort_keys=True).encode()).hexdigest()


def validate(data: Mapping[str, Any], lines: Mapping[str, int], path: str, name: str,
             definition: str | None = None, provided: Collection[str] = (),
             cols: Mapping[str, int] | None = None) -> list[Finding]:
    """Findings (all errors) for ``data`` against schema ``name`` (a ``$defs`` entry).

    ``provided``: top-level fields another file supplies (``_house.yaml``), so that their
    absence here is no error. ``cols``: the column of each pointer, for the caret.
    """
    memo = _MEMO[0] if _MEMO else None
    material = _material(data, name, definition, provided) if memo is not None else None
    if memo is not None and material is not None and memo.identity and \
            memo.digest(memo.identity, material) in memo.valid:
        memo.found.add(material)
        return []
    findings = []
    validator = _validator(name, definition)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        pointer = "/".join(str(p) for p in error.absolute_path)
        if error.validator == "required" and not pointer and \
                _missing(error.message) in provided:
            continue
        finding = _finding(error, pointer, lines, path)
        if cols and finding.rule == "schema.additionalProperties":
            key = f"{pointer}/{finding.key}" if pointer else finding.key
            if key in cols and lines.get(key) == finding.line:
                finding = replace(finding, col=cols[key])
        findings.append(finding)
    if memo is not None and material is not None and not findings:
        memo.found.add(material)
    return findings


def _missing(message: str) -> str:
    """The first quoted name of a message: ``'institution' is a required property``."""
    return message.split("'")[1] if "'" in message else message


def _line(lines: Mapping[str, int], pointer: str) -> int:
    while pointer:
        if pointer in lines:
            return lines[pointer]
        pointer = pointer.rpartition("/")[0]
    return lines.get("", 1)


def _label(pointer: str) -> str:
    """``items/0/citations/1/quote`` → ``items[1].citations[2].quote`` (1-based)."""
    parts: list[str] = []
    for part in pointer.split("/") if pointer else []:
        if part.isdigit() and parts:
            parts[-1] += f"[{int(part) + 1}]"
        else:
            parts.append(part)
    return ".".join(parts) or "the front matter"


def _finding(error: Any, pointer: str, lines: Mapping[str, int], path: str) -> Finding:
    where = _label(pointer)
    validator = error.validator
    hint = ""
    rule = f"schema.{validator}"
    from .messages import RULES

    if rule not in RULES:
        rule = "schema.invalid"
    if validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        name = extra[0] if extra else "?"
        field_pointer = f"{pointer}/{name}" if pointer else name
        hint = suggest(name, allowed) or "allowed here: " + ", ".join(allowed)
        return Finding("error", path, _line(lines, field_pointer),
                       f"unknown field '{name}' in {where}", hint, rule, key=name)
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        message = f"{where} is missing the field '{missing}'"
        hint = f"add '{missing}: …' there"
    elif validator == "enum":
        choices = error.validator_value
        message = f"{where}: '{error.instance}' is not one of: " + ", ".join(map(str, choices))
        hint = suggest(error.instance, choices)
    elif validator == "type":
        wanted = {"string": "text", "array": "a list", "object": "a mapping of fields"}
        want = wanted.get(str(error.validator_value), str(error.validator_value))
        got = "nothing" if error.instance is None else type(error.instance).__name__
        got = {"list": "a list", "dict": "a mapping", "str": "text"}.get(got, got)
        message = f"{where} must be {want}, found {got}"
        if error.validator_value == "string" and isinstance(error.instance, list):
            name = pointer.rpartition("/")[2] or "field"
            message += ": in YAML, lines starting with '- ' (or [brackets]) make a list"
            hint = (f"write the text after the colon in quotes, {name}: \"…\"; for "
                    f"several lines, '{name}: |' and the text indented below it")
        elif error.validator_value == "string":
            hint = "write text in quotes, e.g. field: \"…\""
        elif error.validator_value == "array":
            hint = "write a list, one '- item' a line"
        else:
            hint = "write the fields as 'name: value', indented under it"
    elif validator == "minItems":
        message = f"{where} must list at least {error.validator_value} entry"
        hint = "add an entry, '- …', or remove the field if it is optional"
    elif validator == "minLength":
        message = f"{where} is empty"
        hint = "write the text, or remove the field if it is optional"
    elif validator == "pattern":
        message = f"{where}: '{error.instance}' has the wrong form"
        hint = PATTERN_HINTS.get(pointer.rpartition("/")[2], "")
    else:
        message = f"{where}: {error.message}"
        hint = "docs/sections.md describes every field"
    return Finding("error", path, _line(lines, pointer), message, hint, rule)
