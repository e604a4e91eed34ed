"""Messages that teach: one format, a registry of rules documented both ways, --ignore,
YAML errors in plain words, encodings named, house style at its own address."""

from __future__ import annotations

import ast
import codecs
import re
from pathlib import Path

import pytest

from policybrief import frontmatter, textfile
from policybrief.cli import main
from policybrief.errors import BriefError
from policybrief.messages import RULES, render
from policybrief.model import Finding
from policybrief.watch import Reported

from conftest import write

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src" / "policybrief"
DOCS = REPO / "docs"


# --- the format ------------------------------------------------------------------------


def test_a_finding_reads_like_a_compiler_message(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "---\nkind: motives\n  - txt: \"x\"\n")
    finding = Finding("warning", "a.md", 3, "unknown field 'txt' in items[1]",
                      "did you mean 'text'?", "schema.additionalProperties")
    assert render(finding, tmp_path) == (
        "a.md:3:5: warning[schema.additionalProperties]: unknown field 'txt' in items[1]\n"
        "    3 |   - txt: \"x\"\n"
        "      |     ^^^\n"
        "  hint: did you mean 'text'?")


def test_without_the_file_the_message_still_has_its_place_rule_and_hint() -> None:
    error = BriefError("the source is a PDF document, not text", "seeds/a.md", 1,
                       hint="add it with `brief sources add`", rule="file.binary")
    assert str(error) == ("seeds/a.md:1:1: error[file.binary]: the source is a PDF document, "
                          "not text\n  hint: add it with `brief sources add`")


def test_a_long_line_is_shown_around_the_caret(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "x" * 300 + " 'key' " + "y" * 300 + "\n")
    text = render(Finding("error", "a.md", 1, "bad 'key'", "", "quote.not-found"),
                  tmp_path)
    shown, caret = text.split("\n")[1:3]
    assert len(shown) < 120
    assert shown[caret.index("^"):].startswith("key")


def test_a_tab_is_shown_and_the_caret_stays_under_its_place(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "a:\n\t- b\n")
    text = render(Finding("error", "a.yaml", 2, "tabs", "", "yaml.tab", col=2), tmp_path)
    assert text.split("\n")[1:] == ["    2 | →   - b", "      |     ^"]


# --- the registry, the code and the docs --------------------------------------------


def _rules_in_code() -> set[str]:
    """Every rule name the code gives a Finding or an error (string constants only)."""
    found: set[str] = set()
    positions = {"Finding": 5, "_finding": 5}
    for path in SRC.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            values = [k.value for k in node.keywords if k.arg == "rule"]
            if name in positions and len(node.args) > positions[name]:
                values.append(node.args[positions[name]])
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    prefix = "tradecraft." if name == "_finding" else ""
                    found.add(prefix + value.value)
    return found


def test_every_rule_in_the_code_is_in_the_registry() -> None:
    used = _rules_in_code()
    assert len(used) > 40
    assert used - set(RULES) == set()


def test_every_rule_has_its_entry_in_the_docs_and_every_entry_a_rule() -> None:
    checks = (DOCS / "checks.md").read_text("utf-8")
    table = dict(re.findall(r"^\| \[`([^`]+)`\]\([^)]*\) \| (error|warning) \|", checks, re.M))
    assert table == {name: rule.severity for name, rule in RULES.items()}
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', checks))
    tradecraft = set(re.findall(r'<a id="([^"]+)"></a>',
                                (DOCS / "checks-tradecraft.md").read_text("utf-8")))
    for name, rule in RULES.items():
        assert name in (anchors if rule.doc == "checks.md" else tradecraft), name
    assert (anchors | tradecraft) - set(RULES) == set()
    # the headings say the level the registry has
    for names, level in re.findall(r"^((?:<a id=\"[^\"]+\"></a>)+)\n### .*\((error|warning)",
                                   checks, re.M):
        for name in re.findall(r'id="([^"]+)"', names):
            assert RULES[name].severity == level, name


# --- --ignore and ignore: --------------------------------------------------------------


def test_ignore_silences_a_warning_rule(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tiny / "report/sections/01-background.md",
          (tiny / "report/sections/01-background.md").read_text("utf-8")
          + "\nA paragraph without a citation.\n")
    assert main(["-C", str(tiny), "-q", "check"]) == 0
    err = capsys.readouterr().err
    assert "01-background.md:9:1: warning[paragraph.uncited]: this paragraph of analysis " \
           "carries no citation\n    9 | A paragraph without a citation.\n      | ^\n" in err
    assert main(["-C", str(tiny), "-q", "check", "--ignore", "paragraph.uncited"]) == 0
    assert "paragraph.uncited" not in capsys.readouterr().err
    brief = tiny / "report/brief.yaml"
    brief.write_text(brief.read_text("utf-8") + 'ignore:\n  - "paragraph.uncited"\n', "utf-8")
    assert main(["-C", str(tiny), "-q", "check"]) == 0
    assert "paragraph.uncited" not in capsys.readouterr().err
    assert main(["-C", str(tiny), "-q", "check", "--strict"]) == 0


def test_ignore_refuses_an_error_rule(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(tiny), "-q", "check", "--ignore", "quote.not-found"]) == 2
    assert capsys.readouterr().err == (
        "error[usage]: --ignore quote.not-found: 'quote.not-found' is an error rule: errors "
        "cannot be ignored, only fixed (docs/checks.md#quote.not-found)\n"
        "  hint: only warnings can be ignored; docs/checks.md lists the rules, each marked "
        "error or warning\n")
    assert main(["-C", str(tiny), "-q", "build", "--ignore", "paragraph.uncitd"]) == 2
    assert "there is no rule 'paragraph.uncitd'; did you mean 'paragraph.uncited'?" \
        in capsys.readouterr().err


# --- YAML in plain words --------------------------------------------------------------


@pytest.mark.parametrize("text, line, col, rule, message, hint", [
    ("kind: motives\nitems:\n\t- text: a\n", 4, 1, "yaml.tab",
     "tabs are not allowed in YAML; indent with spaces",
     "replace the tab with spaces (two for each level); editors have a setting to insert "
     "spaces when Tab is pressed"),
    ("kind: motives\n  title: x\n", 3, 3, "yaml.indentation",
     "this line is indented further than the line above allows", None),
    ("kind: motives\nitems:\n  - text: a\n    citations:\n   - key: b\n", 6, 4,
     "yaml.indentation", "this line is not indented like the list or fields it belongs to",
     None),
    ('kind: motives\ntitle: "Iraq\nitems: []\n', 3, 8, "yaml.unclosed-quote",
     'the quote " opened here is never closed', None),
    ("kind: motives\ntitle: 'Iraq\nitems:\n  - title: 'x'\n", 3, 8, "yaml.unclosed-quote",
     "the quote ' opened here is never closed on its line", None),
    ("kind: motives\ntitle: Iraq: the overtures\n", 3, 12, "yaml.colon-in-value",
     "a colon followed by a space inside an unquoted value",
     'put the value in double quotes: title: "Iraq: the overtures"'),
    ("kind: motives\ntitle: [Draft] Iraq\n", 3, 8, "yaml.syntax",
     "a value starting with '[' is read as a list in YAML",
     'put the whole value in double quotes: title: "[Draft] Iraq"'),
    ("kind: motives\ntitle\nfoo: bar\n", 3, 1, "yaml.syntax",
     "'title' is neither 'name: value' nor a list item", None),
])
def test_yaml_errors_in_plain_words(text: str, line: int, col: int, rule: str, message: str,
                                    hint: str | None) -> None:
    with pytest.raises(BriefError) as caught:
        frontmatter.parse(text, "s.md", first_line=2)
    error = caught.value
    assert (error.path, error.line, error.col, error.rule, error.message) == \
        ("s.md", line, col, rule, message)
    if hint is not None:
        assert error.hint == hint
    assert "<block" not in str(error) and "token" not in str(error)


def test_a_list_where_text_was_expected(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    brief = tiny / "report/brief.yaml"
    brief.write_text(brief.read_text("utf-8").replace(
        'subtitle: "A tiny test brief"', "subtitle:\n  - A tiny test brief"), "utf-8")
    assert main(["-C", str(tiny), "-q", "check"]) == 1
    assert capsys.readouterr().err == (
        "report/brief.yaml:2:1: error[schema.type]: subtitle must be text, found a list: in "
        "YAML, lines starting with '- ' (or [brackets]) make a list\n"
        "    2 | subtitle:\n"
        "      | ^\n"
        "  hint: write the text after the colon in quotes, subtitle: \"…\"; for several lines, "
        "'subtitle: |' and the text indented below it\n")


def test_every_file_s_yaml_errors_in_one_run(tiny: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A tab in _house.yaml and timeline.yaml, bad indentation in a section: all three."""
    write(tiny / "report/_house.yaml", 'accent: "#224466"\n\tlogo: "x"\n')
    write(tiny / "report/timeline.yaml", 'title: "T"\nevents:\n  - date: "2024"\n'
                                         '   label: "x"\n')
    motives = tiny / "report/sections/02-motives.md"
    motives.write_text(motives.read_text("utf-8").replace("    citations:", "   citations:"),
                       "utf-8")
    assert main(["-C", str(tiny), "-q", "build"]) == 1
    err = capsys.readouterr().err
    heads = [line for line in err.splitlines() if ": error[" in line]
    assert heads == [
        "report/_house.yaml:2:1: error[yaml.tab]: tabs are not allowed in YAML; indent with "
        "spaces",
        "report/sections/02-motives.md:8:4: error[yaml.indentation]: this line is not "
        "indented like the list or fields it belongs to",
        "report/timeline.yaml:4:4: error[yaml.indentation]: this line is indented further "
        "than the line above allows",
    ], err


# --- encodings and binary files -------------------------------------------------------


@pytest.mark.parametrize("data, message, iconv", [
    (codecs.BOM_UTF16_LE + "a: b\n".encode("utf-16-le"),
     "UTF-16 (little-endian, with a byte-order mark)", "UTF-16"),
    ("a: b\n".encode("utf-16-le"), "UTF-16 (little-endian, without a byte-order mark)",
     "UTF-16LE"),
    (codecs.BOM_UTF16_BE + "a: b\n".encode("utf-16-be"),
     "UTF-16 (big-endian, with a byte-order mark)", "UTF-16"),
    (codecs.BOM_UTF32_BE + "a: b\n".encode("utf-32-be"),
     "UTF-32 (big-endian, with a byte-order mark)", "UTF-32"),
    ("a: b\n".encode("utf-32-le"), "UTF-32 (little-endian, without a byte-order mark)",
     "UTF-32LE"),
])
def test_wide_encodings_are_named_with_the_command(data: bytes, message: str,
                                                   iconv: str) -> None:
    with pytest.raises(BriefError) as caught:
        textfile.decode(data, "report/brief.yaml")
    error = caught.value
    assert error.rule == "encoding"
    assert error.message == f"the file is {message}, not UTF-8"
    assert error.shown == "a: b"
    assert error.hint.startswith(f"convert it to UTF-8: iconv -f {iconv} -t UTF-8 "
                                 "report/brief.yaml > report/brief.yaml.utf8 && mv ")


def test_latin1_and_windows_1252_are_told_apart() -> None:
    with pytest.raises(BriefError) as caught:
        textfile.decode("x\ncaf\u00e9 ok\n".encode("latin-1"), "a.md")
    assert (caught.value.line, caught.value.col, caught.value.shown) == (2, 4, "café ok")
    assert caught.value.message == ("the file is Latin-1 (ISO-8859-1), not UTF-8 (byte 0xe9 "
                                    "is “é” in Latin-1)")
    assert "iconv -f LATIN1 -t UTF-8 a.md" in caught.value.hint
    with pytest.raises(BriefError) as caught:
        textfile.decode("it\u2019s \u20ac5".encode("cp1252"), "a.md")
    assert caught.value.message == ("the file is Windows-1252, not UTF-8 (byte 0x92 is “’” "
                                    "in Windows-1252)")
    assert "iconv -f WINDOWS-1252 -t UTF-8 a.md" in caught.value.hint


@pytest.mark.parametrize("data, kind", [
    (b"%PDF-1.4\n\0", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n\0\0", "a PNG image"),
    (b"\xff\xd8\xff\xe0\0", "a JPEG image"),
    (b"PK\x03\x04\0\0word/document.xml", "a Word document (.docx)"),
    (b"\0\x01\x02\x03binary", "a binary file"),
])
def test_binary_files_are_named_by_what_they_are(data: bytes, kind: str) -> None:
    assert textfile.binary_kind(data) == kind
    with pytest.raises(BriefError) as caught:
        textfile.decode(data, "seeds/a.md", "the source", source=True)
    assert caught.value.rule == "file.binary"
    assert caught.value.message == f"the source is {kind}, not text"


def test_a_utf16_source_is_not_called_binary(tiny: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    source = tiny / "seeds/sadrist-khomeinist-conflict.wikipedia.txt"
    source.write_bytes(source.read_text("utf-8").encode("utf-16"))
    assert main(["-C", str(tiny), "-q", "check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("seeds/sadrist-khomeinist-conflict.wikipedia.txt:1:1: "
                          "error[encoding]: the source is UTF-16 (little-endian, with a "
                          "byte-order mark), not UTF-8\n    1 | = Sadrist–Khomeinist "
                          "conflict =\n      | ^\n  hint: convert it to UTF-8: iconv -f "
                          "UTF-16 -t UTF-8 ")
    assert "binary" not in err


# --- house style at its own address ---------------------------------------------------


def test_house_shadowed_is_a_warning_at_the_brief_line(tiny: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    write(tiny / "report/_house.yaml", 'institution: "House Desk"\n')
    assert main(["-C", str(tiny), "-q", "check"]) == 0
    assert capsys.readouterr().err == (
        "report/brief.yaml:4:1: warning[house.shadowed]: 'institution' is set both here "
        "and in report/_house.yaml:1; this value wins over the house one\n"
        '    4 | institution: "Test Analysis Desk"\n'
        "      | ^^^^^^^^^^^\n"
        "  hint: remove 'institution' from report/brief.yaml to use the house style's value, "
        "or keep it to override the house style on purpose (ignore: [house.shadowed] "
        "silences this)\n")
    assert main(["-C", str(tiny), "-q", "check", "--ignore", "house.shadowed"]) == 0
    assert capsys.readouterr().err == ""


def test_a_house_error_is_reported_once_at_its_own_line(tiny: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    write(tiny / "report/_house.yaml", '# house\naccent: "navy"\nlogo: "assets/none.svg"\n')
    assert main(["-C", str(tiny), "-q", "check"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "report/_house.yaml:2:10: error[schema.pattern]: accent: 'navy' has the wrong form\n"
        '    2 | accent: "navy"\n'
        "      |          ^^^^\n"
        '  hint: a colour as "#RRGGBB", e.g. "#1f4e79"\n'
        "report/_house.yaml:3:8: error[house.logo]: logo 'assets/none.svg' is not a file in "
        "assets/\n"
        '    3 | logo: "assets/none.svg"\n'
        "      |        ^^^^^^^^^^^^^^^\n"
        "  hint: put the logo in the project's assets/ folder and give its path, e.g. "
        "assets/logo.svg\n")
    assert "brief.yaml" not in err


# --- quiet repetition -----------------------------------------------------------------


def test_watch_prints_a_finding_once_then_only_what_changed() -> None:
    def f(path: str, line: int, rule: str = "section.stub") -> Finding:
        return Finding("warning", path, line, f"stub {path}", "", rule)

    reported = Reported()
    shown, summary = reported.update([f("a.md", 3), f("b.md", 3)])
    assert shown == [f("a.md", 3), f("b.md", 3)] and summary == ""
    shown, summary = reported.update([f("a.md", 4), f("b.md", 3)])  # a line added above
    assert shown == [] and summary == "findings unchanged (2)"
    shown, summary = reported.update([f("b.md", 3), f("c.md", 1), f("d.md", 1)])
    assert shown == [f("c.md", 1), f("d.md", 1)] and summary == "2 new warnings, 1 fixed"
    shown, summary = reported.update([])
    assert shown == [] and summary == "3 fixed"


def test_help_summaries_are_whole(capsys: pytest.CaptureFixture[str]) -> None:
    for args in ([], ["sources"], ["templates"]):
        assert main([*args, "--help"]) == 0
        out = capsys.readouterr().out
        commands = out.split("Commands:")[1]
        assert "..." not in commands, commands
    assert main(["check", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Build even" not in out
    assert "--allow-stale Pass even when quotes vanished from changed sources" in out
    assert "--ignore RULE" in out


def test_a_claim_has_no_space_before_its_stop(tiny: Path) -> None:
    from policybrief import pipeline
    from policybrief.model import Project

    path = tiny / "report/sections/01-background.md"
    text = path.read_text("utf-8")
    assert "Rasanah later weighed in.[@rasanah2024rifts, ¶ 3]" in text
    path.write_text(text.replace("Rasanah later weighed in.[@rasanah2024rifts, ¶ 3]",
                                 "Rasanah later weighed in [@rasanah2024rifts, ¶ 3]."), "utf-8")
    checked = pipeline.load(Project(tiny))
    [claim] = [c.claim for c in checked.brief.citations if c.locator == "¶ 3"]
    assert claim == "Rasanah later weighed in."


def test_watch_rebuilds_say_a_warning_once(tiny: Path) -> None:
    """Two rebuilds with the same warning: printed in full once, then one line."""
    from policybrief import watch
    from policybrief.model import Project

    path = tiny / "report/sections/01-background.md"
    path.write_text(path.read_text("utf-8") + "\nAn uncited paragraph.\n", "utf-8")
    said: list[str] = []
    state, reported = watch.State(), Reported()
    assert watch.rebuild(Project(tiny), ["html"], state, False, said.append, said.append,
                         reported)
    warned = [s for s in said if "warning[" in s]
    assert len(warned) == 1 and "warning[paragraph.uncited]" in warned[0]
    said.clear()
    path.write_text(path.read_text("utf-8") + "\nAnother one.\n", "utf-8")
    assert watch.rebuild(Project(tiny), ["html"], state, False, said.append, said.append,
                         reported)
    assert [s.split("\n")[0] for s in said if "warning" in s] == [
        "report/sections/01-background.md:11:1: warning[paragraph.uncited]: this paragraph "
        "of analysis carries no citation", "1 new warning"]
    said.clear()
    path.write_text(path.read_text("utf-8").replace("\nAn uncited paragraph.\n", ""), "utf-8")
    assert watch.rebuild(Project(tiny), ["html"], state, False, said.append, said.append,
                         reported)
    assert [s for s in said if "warning" in s or "fixed" in s] == ["1 fixed"]


def test_an_unreadable_house_file_is_one_error_not_two(tiny: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    brief = tiny / "report/brief.yaml"
    brief.write_text(brief.read_text("utf-8").replace('institution: "Test Analysis Desk"\n',
                                                      ""), "utf-8")
    (tiny / "report/_house.yaml").write_bytes('institution: "Desk"\n'.encode("utf-16"))
    assert main(["-C", str(tiny), "-q", "check"]) == 1
    err = capsys.readouterr().err
    assert err.count("error[") == 1 and "report/_house.yaml:1:1: error[encoding]: the file " \
        "is UTF-16 (little-endian, with a byte-order mark), not UTF-8" in err, err


def test_brief_yaml_in_latin1_is_named_and_the_sections_still_read(
        tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    brief = tiny / "report/brief.yaml"
    brief.write_bytes(brief.read_text("utf-8").replace("Ada", "Adé").encode("latin-1"))
    motives = tiny / "report/sections/02-motives.md"
    motives.write_text(motives.read_text("utf-8").replace("kind: motives", "kind: motive"),
                       "utf-8")
    assert main(["-C", str(tiny), "-q", "check"]) == 1
    heads = [line for line in capsys.readouterr().err.splitlines() if "error[" in line]
    assert heads == [
        "report/brief.yaml:9:14: error[encoding]: the file is Latin-1 (ISO-8859-1), not UTF-8 "
        "(byte 0xe9 is “é” in Latin-1)",
        "report/sections/02-motives.md:2:7: error[sections.kind]: unknown section kind "
        "'motive'"]
