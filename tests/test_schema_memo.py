"""Documents found valid are remembered in build/.cache/schemas (schemas.py): a rebuild
validates only what changed, and nothing that build/ did not write itself counts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from policybrief import kept, schemas
from policybrief.commands.cli import main

from conftest import make_project

# a build in a fresh process, then whether it imported jsonschema (validated anything)
PROBE = ("import sys; from policybrief.commands.cli import main; "
         "code = main(['-q', '-C', sys.argv[1], 'build', '--format', 'html']); "
         "print(code, 'jsonschema' in sys.modules)")


def build_fresh(root: Path) -> tuple[int, bool]:
    done = subprocess.run([sys.executable, "-c", PROBE, str(root)], capture_output=True,
                          text=True, timeout=300)
    code, validated = done.stdout.split()
    return int(code), validated == "True"


def test_a_prose_edit_validates_nothing_and_a_front_matter_edit_is_validated(
        tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "tiny")
    section = root / "report" / "sections" / "01-background.md"
    assert build_fresh(root) == (0, True)
    section.write_text(section.read_text("utf-8") + "\nMore prose of our own.\n", "utf-8")
    assert build_fresh(root) == (0, False)  # the same front matters: taken as valid
    text = section.read_text("utf-8")
    section.write_text(text.replace("kind: background", "kind: background\nsumary: x", 1),
                       "utf-8")
    done = subprocess.run([sys.executable, "-m", "policybrief.commands.cli", "-C", str(root),
                           "-q", "build", "--format", "html"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1
    assert done.stderr.startswith("report/sections/01-background.md:3:1: error[schema."
                                  "additionalProperties]: unknown field 'sumary'"), done.stderr


def test_what_another_build_folder_remembered_never_counts(tmp_path: Path) -> None:
    """A project copied with its build/ (or a planted list of digests): the identity of
    the cache folder is not the same, and everything is validated again."""
    first = make_project(tmp_path / "a", "tiny")
    assert build_fresh(first) == (0, True)
    listed = first / "build" / kept.SCHEMA_CACHE / schemas.VALID
    assert json.loads(listed.read_text("utf-8"))
    second = tmp_path / "b"
    shutil.copytree(first, second, symlinks=True)
    (second / "report" / "sections" / "01-background.md").write_text(
        (first / "report" / "sections" / "01-background.md").read_text("utf-8") + "\nMore.\n",
        "utf-8")
    assert build_fresh(second) == (0, True)


def test_a_failing_build_remembers_nothing(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "p", "tiny")
    meta = root / "report" / "brief.yaml"
    meta.write_text(meta.read_text("utf-8") + "colour: blue\n", "utf-8")
    assert main(["-q", "-C", str(root), "build", "--format", "html"]) == 1
    assert "unknown field 'colour'" in capsys.readouterr().err
    assert not (root / "build" / kept.SCHEMA_CACHE).exists()


def test_the_memo_holds_the_document_and_the_schema(tmp_path: Path) -> None:
    """The same document against another definition, or another document, is validated."""
    folder = tmp_path / "build" / kept.SCHEMA_CACHE
    schemas.remember(folder)
    good = {"kind": "background", "title": "Background"}
    lines = {"": 1}
    assert schemas.validate(good, lines, "s.md", "section", "background") == []
    schemas.keep_valid()
    schemas.remember(folder)
    assert schemas.validate(good, lines, "s.md", "section", "background") == []
    assert schemas._MEMO[0].found  # taken from what was kept
    bad = {**good, "sumary": "x"}
    assert [f.rule for f in schemas.validate(bad, lines, "s.md", "section", "background")] \
        == ["schema.additionalProperties"]
    assert schemas.validate({"kind": 1}, lines, "s.md", "section", "background")
    schemas.remember(None)


def test_what_a_killed_write_left_goes_with_the_next(tmp_path: Path) -> None:
    folder = tmp_path / "build" / kept.SCHEMA_CACHE
    schemas.remember(folder)
    good = {"kind": "background", "title": "Background"}
    assert schemas.validate(good, {"": 1}, "s.md", "section", "background") == []
    folder.mkdir(parents=True)
    half = folder / f".{schemas.VALID}.12345.tmp"
    half.write_text("[", "utf-8")
    schemas.keep_valid()
    assert not half.exists() and json.loads((folder / schemas.VALID).read_text("utf-8"))
    schemas.remember(None)
