"""The "sources changed" report: changed, moved, vanished and removed evidence."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from lxml import html as lhtml

from policybrief.commands.cli import main

from conftest import RASANAH, WIKIPEDIA, write
from test_pipeline import docx_footnotes

LOCKED = "1716163200"  # 2024-05-20
QUOTE = "revealed a stark division among Shiite groups"


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


def locked(root: Path) -> Path:
    """``root`` with its sources locked and its seeds writable (they are copied read-only)."""
    for path in (root / "seeds").iterdir():
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    assert run(root, "-q", "sources", "lock", "--date", "2024-05-20") == 0
    return root


def edit_seed(root: Path, name: str, old: str, new: str) -> None:
    path = root / "seeds" / name
    text = path.read_text("utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), "utf-8")


def test_no_lock_no_report(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tiny, "check") == 0
    assert "sources changed" not in capsys.readouterr().err
    assert run(tiny, "-q", "build", "--format", "docx") == 0
    assert not (tiny / "build" / "changes.md").exists()


def test_nothing_changed_reports_nothing(tiny: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    locked(tiny)
    assert run(tiny, "check") == 0
    assert "sources changed" not in capsys.readouterr().err


def test_vanished_quote_fails_the_build_naming_the_claim(
        tiny: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", LOCKED)
    locked(tiny)
    edit_seed(tiny, RASANAH, QUOTE, "showed that Shiite groups disagree")
    assert run(tiny, "build", "--format", "html,docx") == 1
    err = capsys.readouterr().err
    # no output is written, but the report is: a failed build is when it matters most
    assert sorted(p.name for p in (tiny / "build").iterdir()
                  if not p.name.startswith(".")) == ["changes.md", "current"]
    report = (tiny / "build" / "changes.md").read_text("utf-8")
    assert (f"- vanished “{QUOTE}” — claim “The Coordination Framework split over how far "
            "to escalate …” in Motives and drivers › A framework divided over Gaza "
            "(report/sections/02-motives.md:10)") in report
    assert "sources changed since seeds/sources.lock:" in err
    assert "changed: rasanah2024rifts — seeds/rasanah-2024-maliki-sadr-overtures.md: " \
           "2 citations re-checked, 1 still verified" in err
    # each item once: the vanished quote is the error below, not also a report line
    assert "1 citation lost its evidence (listed below)" in err
    said = [line for line in err.splitlines() if not re.match(r"\s+\d+ \|", line)]
    assert sum(line.count(QUOTE) for line in said) == 1  # the shown source line aside
    # the error itself names the claim, its section and its file:line
    assert (f"report/sections/02-motives.md:10:9: error[source.vanished]: the quote “{QUOTE}” is gone from the changed "
            "source 'rasanah2024rifts': the claim “The Coordination Framework split over how "
            "far to escalate against US …” (Motives and drivers › A framework divided over "
            "Gaza) rests on it") in err
    assert "quote not found" not in err

    assert run(tiny, "build", "--format", "html,docx", "--allow-stale") == 0
    err = capsys.readouterr().err
    assert "02-motives.md:10:9: warning[source.vanished]: the quote “revealed a stark division" \
        in err
    assert "--allow-stale" not in err  # the hint fits the options in use
    assert "quote the new text or restore the source; then run 'brief sources lock'" in err
    page = lhtml.fromstring((tiny / "build" / "brief.html").read_bytes())
    notes = [li.text_content() for li in page.xpath('//section[@id="footnotes"]//li')]
    assert "[unverified]" in notes[2] and page.xpath('//span[@class="unverified"]')
    assert not any("[unverified]" in n for n in notes[:2])
    footnotes = docx_footnotes(tiny / "build" / "brief.docx")
    assert "[unverified]" in footnotes[2]
    assert not any("[unverified]" in n for n in footnotes[:2])
    report = (tiny / "build" / "changes.md").read_text("utf-8")
    assert "## Changed: `rasanah2024rifts`" in report
    assert f"- vanished “{QUOTE}”" in report


def test_moved_quote_uses_the_new_locator(tiny: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    background = tiny / "report/sections/01-background.md"
    write(background, '---\nkind: background\ntitle: "Background"\n---\n'
          'Militias split.[@wikipedia-sadrist-khomeinist, ¶ 3, quote "Iraqi Shia militias '
          'disagreed over Iran"]\n\nMaliki later sought overtures.[@rasanah2024rifts, ¶ 3]\n')
    locked(tiny)
    edit_seed(tiny, WIKIPEDIA, "==History==\n",
              "==History==\nA paragraph added by a later revision of the article.\n\n")
    assert run(tiny, "check") == 0
    err = capsys.readouterr().err
    assert "changed: wikipedia-sadrist-khomeinist" in err
    assert ("moved ¶ 3 → ¶ 4 (report/sections/01-background.md:5); run 'brief check "
            "--fix-locators' to write it") in err
    assert "does not match the quote" not in err
    assert run(tiny, "-q", "build", "--format", "html") == 0
    page = lhtml.fromstring((tiny / "build" / "brief.html").read_bytes())
    notes = [li.text_content() for li in page.xpath('//section[@id="footnotes"]//li')]
    assert "para. 4" in notes[0]
    report = (tiny / "build" / "changes.md").read_text("utf-8")
    assert "- moved ¶ 3 → ¶ 4 (report/sections/01-background.md:5); run `brief check " \
           "--fix-locators` to write it" in report
    assert run(tiny, "-q", "check", "--fix-locators") == 0
    assert '¶ 4, quote "Iraqi Shia militias' in background.read_text("utf-8")
    # accepting the new text makes the source unchanged again
    assert run(tiny, "-q", "sources", "lock") == 0
    capsys.readouterr()
    assert run(tiny, "check") == 0
    assert "sources changed" not in capsys.readouterr().err


def test_a_wrong_locator_in_an_unchanged_source_is_still_an_error(tiny: Path) -> None:
    locked(tiny)
    write(tiny / "report/sections/01-background.md",
          '---\nkind: background\ntitle: "Background"\n---\n'
          'Militias split.[@wikipedia-sadrist-khomeinist, ¶ 9, quote "Iraqi Shia militias '
          'disagreed over Iran"]\n')
    assert run(tiny, "check") == 1


def test_removed_source_file_lists_what_points_nowhere(
        tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked(tiny)
    os.remove(tiny / "seeds" / WIKIPEDIA)
    assert run(tiny, "check") == 1
    err = capsys.readouterr().err
    assert ("removed: wikipedia-sadrist-khomeinist — seeds/sadrist-khomeinist-conflict."
            "wikipedia.txt: its file is gone; 1 citation points nowhere") in err
    # the citation is listed once, as the error (build/changes.md lists it too)
    assert "01-background.md:5 — claim" not in err
    assert ("report/sections/01-background.md:5 — claim “The rivalry took shape during the "
            "civil war.") in (tiny / "build" / "changes.md").read_text("utf-8")
    assert "01-background.md:5:47: error[source.removed]: the source of " \
           "'wikipedia-sadrist-khomeinist' was removed" in err
    assert run(tiny, "check", "--allow-stale") == 0
    assert "warning[source.missing]: 'wikipedia-sadrist-khomeinist' points at" \
        in capsys.readouterr().err


def test_removed_entry_is_reported(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked(tiny)
    bib = tiny / "bibliography.bib"
    text = bib.read_text("utf-8")
    bib.write_text(text[: text.index("@online{wikipedia")], "utf-8")
    assert run(tiny, "check") == 1
    err = capsys.readouterr().err
    assert "removed: wikipedia-sadrist-khomeinist — seeds/sadrist-khomeinist-conflict." \
           "wikipedia.txt: its entry is gone; 1 citation points nowhere" in err
    assert "unknown citation key 'wikipedia-sadrist-khomeinist'" in err


def test_changed_source_with_all_quotes_intact(tiny: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    locked(tiny)
    with (tiny / "seeds" / WIKIPEDIA).open("a", encoding="utf-8") as handle:
        handle.write("\nA closing paragraph added later.\n")
    assert run(tiny, "check") == 0
    err = capsys.readouterr().err
    assert "2 citations re-checked" not in err
    assert ("changed: wikipedia-sadrist-khomeinist — seeds/sadrist-khomeinist-conflict."
            "wikipedia.txt: 1 citation re-checked, 1 still verified") in err
    assert "run 'brief sources lock' to accept the new text" in err


def test_a_one_word_change_gets_the_closest_passage(tiny: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Before the lock accepts the change, as after: did you mean … (¶ N, %)."""
    quote = "this victory stemmed from a need to offset a resounding electoral defeat"
    write(tiny / "report/sections/01-background.md",
          '---\nkind: background\ntitle: "Background"\n---\n'
          f'The Framework won only after losing.[@rasanah2024rifts, quote "{quote}"]\n')
    locked(tiny)
    edit_seed(tiny, RASANAH, "a resounding electoral", "a crushing electoral")
    assert run(tiny, "check") == 1
    err = capsys.readouterr().err
    assert "is gone from the changed source 'rasanah2024rifts'" in err
    assert ("hint: did you mean “dominance, this victory stemmed from a need to offset a "
            "crushing electoral defeat.” (¶ 10, 93%)?") in err
    report = (tiny / "build" / "changes.md").read_text("utf-8")  # brief check writes it
    assert "crushing electoral defeat.” (¶ 10, 93%)?" in report
    # once locked (with --force: the lock would drop that quote) the same hint as before
    assert run(tiny, "sources", "lock", "--force") == 0
    assert run(tiny, "check") == 1
    err = capsys.readouterr().err
    assert "quote not found in 'rasanah2024rifts'" in err
    assert "crushing electoral defeat.” (¶ 10, 93%)?" in err


def test_changes_md_is_never_stale(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked(tiny)
    assert run(tiny, "-q", "build", "--format", "html") == 0
    report = tiny / "build" / "changes.md"
    assert "No source changed." in report.read_text("utf-8")
    edit_seed(tiny, RASANAH, QUOTE, "showed that Shiite groups disagree")
    assert run(tiny, "-q", "build", "--format", "html") == 1  # a failed build
    text = report.read_text("utf-8")
    assert "No source changed" not in text and "## Changed: `rasanah2024rifts`" in text
    assert (tiny / "build" / "brief.html").is_file()  # the last good output stays
    edit_seed(tiny, RASANAH, "showed that Shiite groups disagree", QUOTE)
    assert run(tiny, "-q", "check") == 0
    assert "No source changed." in report.read_text("utf-8")
    # a brief that does not load at all: the report says it compared nothing
    bib = tiny / "bibliography.bib"
    bib.write_text(bib.read_text("utf-8") + "\n@misc{broken,\n", "utf-8")
    assert run(tiny, "-q", "check") == 1
    text = report.read_text("utf-8")
    assert "Not compared with `seeds/sources.lock`: the brief did not load." in text
    assert "bibliography.bib:" in text and "No source changed" not in text


def test_lock_refuses_to_drop_evidence(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked(tiny)
    before = (tiny / "seeds" / "sources.lock").read_bytes()
    os.remove(tiny / "seeds" / WIKIPEDIA)
    edit_seed(tiny, RASANAH, QUOTE, "showed that Shiite groups disagree")
    capsys.readouterr()
    assert run(tiny, "sources", "lock") == 1
    err = capsys.readouterr().err
    assert "seeds/sources.lock:1:1: error[sources.lock]: not locked: locking now would drop evidence" in err
    assert ("bibliography.bib:11: the file of 'wikipedia-sadrist-khomeinist' (seeds/"
            "sadrist-khomeinist-conflict.wikipedia.txt) is missing; 1 citation would lose "
            "its source, first at report/sections/01-background.md:5") in err
    assert (f"report/sections/02-motives.md:10: the quote “{QUOTE}” is gone from "
            "'rasanah2024rifts'") in err
    assert "brief sources lock --force" in err
    assert (tiny / "seeds" / "sources.lock").read_bytes() == before
    assert run(tiny, "-q", "sources", "lock", "--force") == 0
    assert (tiny / "seeds" / "sources.lock").read_bytes() != before


def test_changes_md_without_a_lock_says_so(tiny: Path) -> None:
    locked(tiny)
    assert run(tiny, "-q", "check") == 0
    report = tiny / "build" / "changes.md"
    assert "No source changed." in report.read_text("utf-8")
    os.remove(tiny / "seeds" / "sources.lock")
    assert run(tiny, "-q", "check") == 0
    assert "No `seeds/sources.lock` to compare with" in report.read_text("utf-8")
