"""The recommendations section kind (each rests on key judgments, by id) and the name
style sheet (report/names.yaml), on tiny projects; and both in the rendered outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lhtml

from policybrief.commands.cli import main
from policybrief.model import Finding, Project
from policybrief.pipeline import load

from conftest import BRIEF_YAML, make_tiny, write
from test_pipeline import pdf_text

SUMMARY = """\
---
kind: summary
title: "Key judgments"
judgments:
  - id: "split"
    text: |
      The Coordination Framework is split over escalation.
    confidence: "low"
    attribution: "brief"
    citations:
      - key: "rasanah2024rifts"
        quote: "revealed a stark division among Shiite groups"
  - id: "no-deal"
    text: |
      A Maliki–Sadr alliance is very unlikely.
    likelihood: "very unlikely"
    confidence: "moderate"
    attribution: "brief"
    citations:
      - key: "rasanah2024rifts"
        quote: "his failure to respond to Maliki's overtures"
---
"""


def recommendations(rests_on: str = '"no-deal"') -> str:
    return ("---\nkind: recommendations\ntitle: \"Recommendations\"\nrecommendations:\n"
            "  - actor: \"Embassies in Baghdad\"\n"
            "    action: |\n"
            "      Keep separate channels to the Sadrists and to State of Law.\n"
            f"    rests_on:\n      - {rests_on}\n"
            "  - actor: \"Analysts following Iraq\"\n"
            "    action: \"Watch the Framework's lists.\"\n"
            "    rests_on: [\"split\"]\n"
            "---\nAddressed to governments that deal with Baghdad.\n")


def project(root: Path, recs: str) -> Path:
    make_tiny(root)
    write(root / "report" / "brief.yaml",
          BRIEF_YAML.replace('  - "01-background.md"\n', '  - "00-summary.md"\n  - "01-background.md"\n')
          + '  - "03-recommendations.md"\n')
    write(root / "report" / "sections" / "00-summary.md", SUMMARY)
    write(root / "report" / "sections" / "03-recommendations.md", recs)
    return root


def line_of(path: Path, needle: str) -> int:
    return next(i for i, t in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in t)


def test_recommendations_resting_on_known_judgments_check_clean(tmp_path: Path) -> None:
    checked = load(Project(project(tmp_path / "p", recommendations())))
    assert checked.errors == [] and checked.warnings == []


def test_a_recommendation_resting_on_an_unknown_judgment_is_an_error_at_its_line(
        tmp_path: Path) -> None:
    root = project(tmp_path / "p", recommendations('"no-dael"'))
    path = root / "report" / "sections" / "03-recommendations.md"
    checked = load(Project(root))
    assert checked.errors == [Finding(
        "error", "report/sections/03-recommendations.md", line_of(path, '"no-dael"'),
        "recommendation 1 rests on key judgment 'no-dael', which does not exist",
        "did you mean 'no-deal'?", "tradecraft.recommendation-judgment")]


@pytest.mark.parametrize(('text', 'missing'), [
    ('  - action: "Do it."\n    rests_on: ["split"]\n', "actor"),
    ('  - actor: "Embassies"\n    rests_on: ["split"]\n', "action"),
    ('  - actor: "Embassies"\n    action: "Do it."\n', "rests_on"),
])
def test_each_recommendation_names_actor_action_and_judgment(tmp_path: Path, text: str,
                                                              missing: str) -> None:
    recs = "---\nkind: recommendations\ntitle: \"R\"\nrecommendations:\n" + text + "---\n"
    checked = load(Project(project(tmp_path / "p", recs)))
    (error,) = checked.errors
    assert (error.line, error.message, error.rule) == (
        5, f"recommendations[1] is missing the field '{missing}'", "schema.required")


def test_a_judgment_id_used_twice_is_an_error(tmp_path: Path) -> None:
    root = project(tmp_path / "p", recommendations())
    summary = root / "report" / "sections" / "00-summary.md"
    summary.write_text(summary.read_text().replace('"no-deal"', '"split"'), "utf-8")
    recs = root / "report" / "sections" / "03-recommendations.md"
    recs.write_text(recs.read_text().replace('"no-deal"', '"split"'), "utf-8")
    (error,) = load(Project(root)).errors
    assert (error.rule, error.message, error.line) == (
        "tradecraft.duplicate-id", "key judgment id 'split' is used twice",
        [i for i, t in enumerate(summary.read_text().splitlines(), 1) if '"split"' in t][1])


@pytest.mark.slow
def test_recommendations_appear_in_pdf_html_and_docx(tmp_path: Path) -> None:
    import docx

    root = project(tmp_path / "p", recommendations())
    assert main(["-C", str(root), "-q", "build"]) == 0
    build = root / "build"
    pdf = " ".join(pdf_text(build / "brief.pdf").split())
    page = lhtml.fromstring((build / "brief.html").read_bytes())
    section = page.xpath('//main//section[@id="recommendations"]')[0]
    html = " ".join(section.text_content().split())
    document = docx.Document(str(build / "brief.docx"))
    docx_text = " ".join(" ".join(p.text for p in document.paragraphs).split())
    for text in (pdf, html, docx_text):
        assert "Recommendations" in text
        assert "Embassies in Baghdad. Keep separate channels to the Sadrists" in text
        assert "Rests on key judgment 2." in text and "Rests on key judgment 1." in text
    # the link goes to the judgment's anchor in the key judgments box
    (link,) = section.xpath(  # no-break spaces in "key judgment 2"
        './/a[normalize-space(translate(., "\u00a0", " "))="key judgment 2"]')
    assert link.get("href") == "#judgment-no-deal"
    assert page.xpath('//*[@id="judgment-no-deal"]')


# --- the name style sheet ---------------------------------------------------------------

NAMES = """\
names:
  - name: "Akram al-Kaabi"
    variants: ["Akram al-Kabi", "al-Kabi"]
  - name: "Asa'ib Ahl al-Haq"
    aliases: ["AAH"]
    variants: ["Asaib Ahl al-Haq"]
"""


def test_a_variant_spelling_is_reported_at_its_line_with_the_sheet_line(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "p")
    write(root / "report" / "names.yaml", NAMES)
    motives = root / "report" / "sections" / "02-motives.md"
    motives.write_text(motives.read_text().replace(
        "The Coordination Framework split over how far to escalate against US targets.",
        "The Framework split.\n      Harakat al-Nujaba, under Akram al-Kabi, and Asaib Ahl al-Haq\n"
        "      pressed on; AAH and Akram al-Kaabi [@rasanah2024rifts, quote \"Akram al-Kaabi\"]."),
        "utf-8")
    checked = load(Project(root))
    assert checked.errors == []
    line = line_of(motives, "under Akram al-Kabi")
    row = motives.read_text("utf-8").splitlines()[line - 1]
    kabi, asaib = row.index("Akram al-Kabi") + 1, row.index("Asaib Ahl al-Haq") + 1
    # (the claim checks also find names the cited passage lacks: not this test's subject)
    assert [str(f) for f in checked.warnings if f.rule.startswith("style.")] == [
        f"report/sections/02-motives.md:{line}:{kabi}: warning[style.name-variant]: 'Akram "
        "al-Kabi' is a variant spelling of 'Akram al-Kaabi'\n  hint: write 'Akram al-Kaabi' "
        "(report/names.yaml:3)",
        f"report/sections/02-motives.md:{line}:{asaib}: warning[style.name-variant]: 'Asaib "
        "Ahl al-Haq' is a variant spelling of 'Asa'ib Ahl al-Haq'\n  hint: write 'Asa'ib Ahl "
        "al-Haq' (report/names.yaml:6)",
    ]
    assert main(["-C", str(root), "-q", "check", "--strict"]) == 1


def test_quotations_keep_the_source_spelling(tmp_path: Path) -> None:
    """A quote is the source's words: 'al-Kabi' inside one is no variant, inline or in a
    structured citation."""
    root = make_tiny(tmp_path / "p")
    write(root / "report" / "names.yaml", NAMES)
    motives = root / "report" / "sections" / "02-motives.md"
    motives.write_text(motives.read_text().replace(
        'quote: "revealed a stark division among Shiite groups"',
        'quote: "Akram al-Kabi temporarily assumed leadership of AAH"').replace(
        '"rasanah2024rifts"', '"wikipedia-sadrist-khomeinist"').replace(
        "against US targets.", 'against US targets [@wikipedia-sadrist-khomeinist, '
        'quote "In 2008, Muqtada al-Sadr demanded that al-Kabi reunite AAH"].'), "utf-8")
    checked = load(Project(root))
    assert checked.errors == []
    assert [f for f in checked.warnings if f.rule.startswith("style.")] == []


def test_a_broken_style_sheet_is_an_error_at_its_line(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "p")
    write(root / "report" / "names.yaml",
          'names:\n  - name: "Sadr"\n    variantz: ["Sadar"]\n')
    (error,) = load(Project(root)).errors
    assert (error.path, error.line, error.rule) == ("report/names.yaml", 3,
                                                    "schema.additionalProperties")
    assert error.hint == "did you mean 'variants'?"
