"""The shipped brief: its rules as a program can check them, and its three outputs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from lxml import html as lhtml

from policybrief import citations as cit
from policybrief.assemble import evidence
from policybrief.commands.cli import main
from policybrief.model import Project
from policybrief.pipeline import load

from conftest import REPO
from test_pipeline import docx_footnotes, pdf_text

KINDS = {"summary", "background", "motives", "opportunities", "challenges", "scenarios",
         "implications", "recommendations", "method"}


@pytest.fixture(scope="module")
def checked():  # type: ignore[no-untyped-def]
    return load(Project(REPO))


def test_the_brief_checks_clean_even_under_strict(checked) -> None:  # type: ignore[no-untyped-def]
    assert checked.errors == [] and checked.warnings == []


def test_every_section_kind_appears(checked) -> None:  # type: ignore[no-untyped-def]
    assert {s.kind for s in checked.brief.sections} == KINDS


def test_every_analysis_paragraph_has_a_citation(checked) -> None:  # type: ignore[no-untyped-def]
    for section in checked.brief.sections:
        for text, cited in evidence.analysis_paragraphs(section):
            assert cited, f"{section.path}: uncited paragraph: {text[:80]}"


def test_every_citation_carries_a_verified_quote(checked) -> None:  # type: ignore[no-untyped-def]
    for c in checked.brief.citations:
        assert c.quote, f"{c.path}:{c.line}: citation of {c.key} without a quote"
        assert c in checked.evidence.matches
        assert len(c.quote.split()) <= 25, f"{c.path}:{c.line}: quote too long for fair use"


def test_every_structured_item_has_an_evidence_quote(checked) -> None:  # type: ignore[no-untyped-def]
    for section in checked.brief.sections:
        for name in ("items", "judgments", "scenarios"):
            for item in section.fields.get(name, []) or []:
                assert item["citations"], f"{section.path}: {name} entry without citations"
                assert all(ref.get("quote") for ref in item["citations"])


def test_every_scenario_is_complete(checked) -> None:  # type: ignore[no-untyped-def]
    scenarios = [s for sec in checked.brief.sections if sec.kind == "scenarios"
                 for s in sec.fields["scenarios"]]
    assert len(scenarios) == 4
    for s in scenarios:
        for field in ("likelihood", "confidence", "attribution", "narrative"):
            assert s[field].strip()
        for field in ("drivers", "indicators", "implications"):
            assert len(s[field]) >= 2, f"scenario {s['id']}: too few {field}"


def test_summary_has_three_to_five_judgments(checked) -> None:  # type: ignore[no-untyped-def]
    summary = next(s for s in checked.brief.sections if s.kind == "summary")
    assert 3 <= len(summary.fields["judgments"]) <= 5


def test_no_bare_handles_and_no_placeholder_text() -> None:
    for path in sorted((REPO / "report").rglob("*.md")):
        text = path.read_text("utf-8")
        assert not cit.parse(text)[1], f"{path}: citation syntax problems"
        for word in ("lorem", "ipsum", "TODO", "TBD", "XXX"):
            assert word not in text, f"{path} contains {word}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real")
    for name in ("report", "seeds", "templates"):
        shutil.copytree(REPO / name, root / name, symlinks=True)
    shutil.copy(REPO / "bibliography.bib", root / "bibliography.bib")
    assert main(["-C", str(root), "-q", "build"]) == 0
    return root / "build"


@pytest.mark.slow
def test_real_brief_renders_every_section_in_every_format(built: Path, checked) -> None:  # type: ignore[no-untyped-def]
    import docx

    titles = [s.title for s in checked.brief.sections]
    text = " ".join(pdf_text(built / "brief.pdf").split())
    page = lhtml.fromstring((built / "brief.html").read_bytes())
    html_h2 = [" ".join(h.text_content().split()) for h in page.xpath("//main//h2")]
    document = docx.Document(str(built / "brief.docx"))
    docx_h = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    for title in titles:
        assert title in text
        assert title in html_h2
        assert title in docx_h
    html_notes = page.xpath('//section[@id="footnotes"]//li')
    assert len(html_notes) == len(docx_footnotes(built / "brief.docx")) >= 40
    for label in ("Rasanah – International Institute for Iranian Studies. Rifts Within",
                  "Wikipedia contributors. ‘Sadrist–Khomeinist Conflict’"):
        assert label in text
        assert label in page.text_content()


# --- the shape of the brief: length, diagnostic indicators, recommendations ----------

# Body text: the prose of the section files as a reader meets it in the body: each
# section's Markdown body, the text of its items, key judgments and recommendations, and
# the narrative of its scenarios. Not counted: notes (every [@key, …] group is removed),
# the boxes and tables the templates build from structured fields (drivers, indicators,
# implications, assumptions, the explainer, "About this brief"), figures, the evidence
# appendix and the bibliography. Markup is removed (span and div attributes, link
# targets, fences, emphasis); a word is a run of letters or digits, with inner
# apostrophes and hyphens ("Asa'ib", "al-Maliki", "2021–2022" are one word each).
BODY_FIELDS = (("items", "text"), ("judgments", "text"), ("scenarios", "narrative"),
               ("recommendations", "actor"), ("recommendations", "action"))
WORD = re.compile(r"\w+(?:['’‐–-]\w+)*")


def body_words(section) -> int:  # type: ignore[no-untyped-def]
    parts = [section.body]
    for name, field in BODY_FIELDS:
        parts += [item[field] for item in section.fields.get(name) or []]
    text = cit.GROUP.sub(" ", "\n\n".join(parts))
    text = re.sub(r"^:::.*$", "", text, flags=re.M)  # fenced divs (::: own)
    text = re.sub(r"\]\{[^}]*\}", "]", text)  # [span]{attributes}
    text = re.sub(r"\]\([^)]*\)", "]", text)  # [link](target)
    return len(WORD.findall(text))


def test_body_counting_ignores_notes_and_markup() -> None:
    from policybrief.model import Section

    body = ('[Our view: two words.]{.own} Maliki\'s al-Sadr 2021–2022 '
            '[@rasanah2024rifts, quote "ten words that are not counted at all here, none"]'
            '\n\n::: own\n\n[Figure 1](#fig-timeline) x.\n\n:::\n')
    section = Section("s.md", 1, "background", "T", "t", {"kind": "background"}, {}, body, 1)
    assert body_words(section) == 4 + 3 + 3


def test_the_body_is_3000_to_4000_words(checked) -> None:  # type: ignore[no-untyped-def]
    total = sum(body_words(s) for s in checked.brief.sections)
    assert 3000 <= total <= 4000, total


HORIZON = "before the next parliamentary elections"
HORIZON_ALT = "before candidate registration for the next parliamentary elections closes"


def test_every_indicator_is_diagnostic_and_has_a_horizon(checked) -> None:  # type: ignore[no-untyped-def]
    owner: dict[str, str] = {}
    for section in checked.brief.sections:
        for s in section.fields.get("scenarios") or []:
            indicators = s["indicators"]
            assert len(indicators) >= 2, f"scenario {s['id']}: fewer than two indicators"
            for text in indicators:
                norm = " ".join(text.casefold().split()).rstrip(".")
                assert norm not in owner, f"{text!r} is under {owner[norm]} and {s['id']}"
                owner[norm] = s["id"]
                assert norm.startswith((HORIZON, HORIZON_ALT)), f"no horizon: {text!r}"


def test_sadr_staying_out_is_one_of_the_scenarios(checked) -> None:  # type: ignore[no-untyped-def]
    ids = {s["id"] for sec in checked.brief.sections for s in sec.fields.get("scenarios") or []}
    assert ids == {"rivalry-and-agreement", "continued-conflict", "sadr-stays-out",
                   "rapprochement"}


def test_confidence_agrees_between_judgments_and_scenarios(checked) -> None:  # type: ignore[no-untyped-def]
    """A key judgment that states a scenario's likelihood gives it the same confidence."""
    sections = checked.brief.sections
    judgments = {j["id"]: j for s in sections for j in s.fields.get("judgments") or []}
    scenarios = {x["id"]: x for s in sections for x in s.fields.get("scenarios") or []}
    for judgment, scenario in (("rivalry", "rivalry-and-agreement"),
                               ("no-alliance", "rapprochement")):
        for field in ("likelihood", "confidence"):
            assert judgments[judgment][field] == scenarios[scenario][field]


def test_every_recommendation_rests_on_a_key_judgment(checked) -> None:  # type: ignore[no-untyped-def]
    judgments = {j["id"] for s in checked.brief.sections for j in s.fields.get("judgments") or []}
    recs = [r for s in checked.brief.sections for r in s.fields.get("recommendations") or []]
    assert len(recs) >= 3
    for r in recs:
        assert r["actor"].strip() and r["action"].strip()
        assert set(r["rests_on"]) <= judgments


def test_the_name_style_sheet_exists_and_the_brief_keeps_to_it(checked) -> None:  # type: ignore[no-untyped-def]
    assert (REPO / "report" / "names.yaml").is_file()
    assert not [f for f in checked.findings if f.rule == "style.name-variant"]


def test_each_figure_is_referred_to_in_the_text(checked) -> None:  # type: ignore[no-untyped-def]
    text = " ".join(s.body for s in checked.brief.sections)
    for figure in checked.brief.figures:
        assert f"Figure {figure.number}" in text, figure.name


def test_author_about_and_suggested_citation(checked) -> None:  # type: ignore[no-untyped-def]
    meta = checked.brief.meta
    assert meta.get("authors")[0]["name"] != "Policybrief editorial team"
    assert meta.get("about") and meta.get("suggested_citation")


@pytest.mark.slow
def test_own_judgment_spans_and_about_box_in_every_format(built: Path) -> None:
    """[…]{.own} leaves no visible mark; the suggested citation is in all three formats."""
    import docx

    pdf = " ".join(pdf_text(built / "brief.pdf").split())
    page = lhtml.fromstring((built / "brief.html").read_bytes())
    html = " ".join(page.text_content().split())
    document = docx.Document(str(built / "brief.docx"))
    word = " ".join(" ".join(p.text for p in document.paragraphs).split())
    assert page.xpath('//span[@class="own"]')
    for text in (pdf, html, word):
        assert "{.own}" not in text and "::: own" not in text and ".own" not in text
        assert "Suggested citation: Iraq Politics Desk. A Hedge, Not a Reconciliation" in text
        assert "Our bottom line: expect guarded competition" in text
        assert "Rests on key judgment 2, key judgment 3." in text
