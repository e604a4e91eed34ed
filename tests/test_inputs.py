"""A rebuild with nothing changed replays the last build's findings without loading."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from policybrief import pipeline
from policybrief.commands.cli import main
from policybrief.errors import ContentError
from policybrief.model import Project
from policybrief.publish import inputs

from conftest import RASANAH

HTML = pipeline.BuildOptions(("html",))
HTML_STRICT = pipeline.BuildOptions(("html",), strict=True)
HTML_STALE = pipeline.BuildOptions(("html",), allow_stale=True)

def _no_loading(*_: object, **__: object) -> None:
    raise AssertionError("the brief was loaded again")


@pytest.fixture
def warned(tiny: Path) -> Path:
    """The tiny project with a warning (a source without an entry), built as HTML."""
    shutil.copy(tiny / "seeds" / RASANAH, tiny / "seeds" / "unlisted.md")
    first = pipeline.build(Project(tiny), HTML)
    assert first.checked is not None and first.written
    assert [f.rule for f in first.warnings] == ["source.no-entry"]
    return tiny


def test_nothing_changed_replays_the_findings_without_loading(
        warned: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "load", _no_loading)
    again = pipeline.build(Project(warned), HTML)
    assert again.checked is None
    assert again.written == [] and again.skipped == ["brief.html"]
    assert [(f.path, f.line, f.rule) for f in again.warnings] == [
        ("seeds/unlisted.md", 1, "source.no-entry")]


def test_strict_fails_on_the_replayed_warnings(warned: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(warned), "build", "-f", "html", "--strict"]) == 1
    assert "seeds/unlisted.md:1:1: warning[source.no-entry]: this source has no bibliography entry" \
        in capsys.readouterr().err
    with pytest.raises(ContentError):
        pipeline.build(Project(warned), HTML_STRICT)


def test_a_touched_file_with_the_same_text_is_still_unchanged(
        warned: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    section = warned / "report" / "sections" / "01-background.md"
    section.write_text(section.read_text("utf-8"), "utf-8")
    monkeypatch.setattr(pipeline, "load", _no_loading)
    assert pipeline.build(Project(warned), HTML).checked is None


def test_an_edit_or_a_missing_output_builds_again(warned: Path) -> None:
    section = warned / "report" / "sections" / "01-background.md"
    section.write_text(section.read_text("utf-8").replace("grew from it", "rose from it"),
                       "utf-8")
    edited = pipeline.build(Project(warned), HTML)
    assert edited.checked is not None and edited.written
    assert "rose from it" in (warned / "build" / "brief.html").read_text("utf-8")
    # an output asked for that the last build did not make
    assert pipeline.build(Project(warned), pipeline.BuildOptions(("html", "docx"))).written == ["brief.docx"]
    (warned / "build" / "current" / "brief.html").unlink()
    again = pipeline.build(Project(warned), HTML)
    assert again.checked is not None and "brief.html" in again.written
    # options that change the outputs are part of the fingerprint
    assert pipeline.build(Project(warned), HTML_STALE).checked is not None


def test_a_source_kept_outside_seeds_is_refused(warned: Path) -> None:
    """Every source lives in seeds/ (the one confinement rule): one named elsewhere in
    the project is an error at its file field, and nothing is read from it."""
    elsewhere = warned / "library" / "rasanah.md"
    elsewhere.parent.mkdir()
    shutil.move(warned / "seeds" / RASANAH, elsewhere)
    bib = warned / "bibliography.bib"
    bib.write_text(bib.read_text("utf-8").replace(f"seeds/{RASANAH}", "library/rasanah.md"),
                   "utf-8")
    with pytest.raises(ContentError) as caught:
        pipeline.build(Project(warned), HTML)
    assert re.match(
        r"bibliography\.bib:8:\d+: error\[source\.outside\]: " + re.escape(
            "'rasanah2024rifts' points at 'library/rasanah.md', which is outside the "
            "project's seeds/"), str(caught.value)), str(caught.value)


def test_a_hash_is_reused_only_for_a_file_older_than_its_hashing(tmp_path: Path) -> None:
    project = Project(tmp_path)
    path = tmp_path / "report" / "brief.yaml"
    path.parent.mkdir()
    path.write_text("title: one\n", "utf-8")
    first = inputs.scan(project, "")
    assert first.files["report/brief.yaml"][1] == -1  # just written: time not trusted
    stat = path.stat()
    path.write_text("title: two\n", "utf-8")  # same size; put the old time back
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    known = inputs.Record(first.fingerprint, {}, "", (), "", (), first.files)
    assert inputs.scan(project, "", known).fingerprint != first.fingerprint
    # a settled file keeps its hash while its size, time and inode stay the same
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 10**10))
    settled = inputs.scan(project, "")
    assert settled.files["report/brief.yaml"][1] == stat.st_mtime_ns - 10**10
    assert inputs.scan(project, "other salt").fingerprint != settled.fingerprint
