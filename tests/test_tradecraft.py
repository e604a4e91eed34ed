"""Analytic tradecraft: each rule of ``tradecraft.check`` on a small project, the scenario
matrix, the boxes and the explainer as the templates render them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policybrief.assemble import assembly, variables
from policybrief.check import tradecraft
from policybrief.model import Finding, Project
from policybrief.pipeline import load
from policybrief.render import pandoc

from conftest import BRIEF_YAML, REPO, make_tiny, write

QUOTE = 'quote: "revealed a stark division among Shiite groups"'


def scenario(ident: str, likelihood: str, indicators: tuple[str, ...] = ("A sign",),
             attribution: str = "brief", narrative: str = "It happens.") -> str:
    lines = "".join(f'      - "{i}"\n' for i in indicators)
    return (f'  - id: "{ident}"\n'
            f'    title: "Scenario {ident.upper()}"\n'
            f"    narrative: |\n"
            f"      {narrative}\n"
            f'    likelihood: "{likelihood}"\n'
            f'    confidence: "low"\n'
            f'    attribution: "{attribution}"\n'
            f"    drivers:\n"
            f'      - "A driver of {ident}"\n'
            f"    indicators:\n{lines}"
            f"    implications:\n"
            f'      - "An implication of {ident}"\n'
            f"    citations:\n"
            f'      - key: "rasanah2024rifts"\n'
            f"        {QUOTE}\n")


def project(root: Path, scenarios: str, extra: str = "", body: str = "The body.\n") -> Path:
    make_tiny(root)
    write(root / "report" / "brief.yaml", BRIEF_YAML + '  - "03-scenarios.md"\n')
    write(root / "report" / "sections" / "03-scenarios.md",
          '---\nkind: scenarios\ntitle: "Scenarios"\nscenarios:\n' + scenarios + extra
          + "---\n" + body)
    return root


def findings(root: Path) -> list[Finding]:
    """The tradecraft findings of a full load (the pipeline runs tradecraft.check)."""
    checked = load(Project(root))
    others = [f for f in checked.errors if not f.rule.startswith("tradecraft.")]
    assert not others, others
    found = [f for f in checked.findings if f.rule.startswith("tradecraft.")]
    direct = tradecraft.check(checked.brief.sections, checked.brief.entries)
    assert sorted(found, key=str) == sorted(direct, key=str)
    return direct


def line_of(root: Path, needle: str, name: str = "03-scenarios.md") -> int:
    """1-based line of the first line of a section file that contains ``needle``."""
    lines = (root / "report" / "sections" / name).read_text("utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if needle in text)


PATH = "report/sections/03-scenarios.md"
COHERENT = (scenario("a", "very unlikely", ("Sign A",)) + scenario("b", "unlikely", ("Sign B",))
            + scenario("c", "likely", ("Sign C",)))


def test_a_coherent_set_of_scenarios_passes(tmp_path: Path) -> None:
    assert findings(project(tmp_path / "p", COHERENT)) == []


def test_the_real_brief_passes() -> None:
    checked = load(Project(REPO))
    assert tradecraft.check(checked.brief.sections, checked.brief.entries) == []


def test_unknown_attribution_is_an_error_with_did_you_mean(tmp_path: Path) -> None:
    root = project(tmp_path / "p", scenario("a", "unlikely", attribution="rasanah2024rift"))
    assert findings(root) == [Finding(
        "error", PATH, line_of(root, "attribution:"),
        "attribution 'rasanah2024rift' of scenario 'a' is neither 'brief' nor a bibliography key",
        "did you mean 'rasanah2024rifts'?", "tradecraft.attribution")]


def test_a_judgment_attributed_to_a_source_key_passes_and_a_typo_fails(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "p")
    write(root / "report" / "brief.yaml", BRIEF_YAML + '  - "00-summary.md"\n')
    write(root / "report" / "sections" / "00-summary.md", f"""\
---
kind: summary
title: "Key judgments"
judgments:
  - text: "Maliki hedges."
    confidence: "moderate"
    attribution: "rasanah2024rifts"
    citations:
      - key: "rasanah2024rifts"
        {QUOTE}
  - text: "Sadr waits."
    confidence: "low"
    attribution: "Brief"
    citations:
      - key: "rasanah2024rifts"
        {QUOTE}
---
""")
    found = findings(root)
    assert [(f.line, f.message, f.hint) for f in found] == [
        (13, "attribution 'Brief' of judgment 2 is neither 'brief' nor a bibliography key",
         "did you mean 'brief'?")]


def test_lower_bounds_above_100_percent(tmp_path: Path) -> None:
    root = project(tmp_path / "p", scenario("a", "roughly even chance", ("Sign A",))
                   + scenario("b", "roughly even chance", ("Sign B",))
                   + scenario("c", "unlikely", ("Sign C",)))
    assert findings(root) == [Finding(
        "error", PATH, line_of(root, "scenarios:"),
        "the lower bounds of these mutually exclusive scenarios add up to 110%, more than 100%",
        "a 45% + b 45% + c 20%: make some of them less likely, or move scenarios that can "
        "happen together to another section", "tradecraft.likelihood-sum")]


def test_exactly_100_percent_is_allowed(tmp_path: Path) -> None:
    root = project(tmp_path / "p", scenario("a", "very likely", ("Sign A",))
                   + scenario("b", "unlikely", ("Sign B",)))
    assert findings(root) == []


def test_two_likely_scenarios(tmp_path: Path) -> None:
    root = project(tmp_path / "p", scenario("a", "likely", ("Sign A",))
                   + scenario("b", "unlikely", ("Sign B",)) + scenario("c", "very likely",
                                                                      ("Sign C",)))
    found = findings(root)
    assert [f.rule for f in found] == ["tradecraft.likelihood-sum", "tradecraft.likely-count"]
    total, count = found
    assert total.message == ("the lower bounds of these mutually exclusive scenarios add up "
                             "to 155%, more than 100%")
    assert total.hint.startswith("a 55% + b 20% + c 80%: ")
    likelihood_lines = [i for i, t in enumerate(
        (root / "report/sections/03-scenarios.md").read_text().splitlines(), 1)
        if "likelihood:" in t]
    assert count.line == likelihood_lines[2]
    assert count.message == ("scenario 'c' is 'very likely', but so is 'a' ('likely'): at most "
                             "one of a set of mutually exclusive scenarios can be likely or "
                             "stronger")


SENTENCE = "Rapprochement is unlikely, and we judge this with moderate confidence."


def test_likelihood_and_confidence_in_one_sentence_of_the_body(tmp_path: Path) -> None:
    body = f"First paragraph, nothing to see.\n\nA second sentence. {SENTENCE} Fine.\n"
    root = project(tmp_path / "p", COHERENT, body=body)
    (found,) = findings(root)
    assert found == Finding(
        "error", PATH, line_of(root, "A second sentence"),
        "this sentence gives both a likelihood (‘unlikely’) and a confidence level "
        "(‘moderate confidence’)",
        "likelihood is about the event, confidence about the basis of the judgment: say them "
        "in two sentences, or put the confidence in the confidence field",
        "tradecraft.likelihood-with-confidence")


def test_likelihood_and_confidence_in_a_narrative_field(tmp_path: Path) -> None:
    text = "It starts well.\n      Then it is highly probable; confidence is low."
    root = project(tmp_path / "p", scenario("a", "unlikely", narrative=text))
    (found,) = findings(root)
    assert found.line == line_of(root, "Then it is highly probable")
    assert "(‘highly probable’)" in found.message and "(‘confidence is low’)" in found.message


def test_the_two_in_separate_sentences_pass(tmp_path: Path) -> None:
    body = "Rapprochement is unlikely. We have moderate confidence in this judgment.\n"
    assert findings(project(tmp_path / "p", COHERENT, body=body)) == []


@pytest.mark.parametrize(("sentence", "expected"), [
    ("It is very likely, and we have high confidence.", ("very likely", "high confidence")),
    ("Almost  no chance, with low confidence", ("almost no chance", "low confidence")),
    ("A high-confidence call that it is nearly certain.", ("nearly certain", "high-confidence")),
    ("Remote, and confidence: moderate.", ("remote", "confidence: moderate")),
    ("The most likely outcome.", None),
    ("Confidence in Maliki is low.", None),
    ("An unlikely-looking ally with moderate confidence", None),
    ("Unlikely [@k, quote \"with high confidence\"].", None),
])
def test_mixed(sentence: str, expected: tuple[str, str] | None) -> None:
    texts = [s for _, s in tradecraft.sentences(sentence)]
    assert [tradecraft.mixed(s) for s in texts if tradecraft.mixed(s)] == \
        ([expected] if expected else [])


def test_sentences_split_at_list_items_and_paragraphs() -> None:
    text = "One likely thing\n- high confidence item\n\nMore. Yet more"
    assert [s for _, s in tradecraft.sentences(text)] == [
        "One likely thing", "- high confidence item", "More.", "Yet more"]


def test_missing_or_empty_indicators_are_schema_errors_that_say_so(tmp_path: Path) -> None:
    root = project(tmp_path / "p", scenario("a", "unlikely", indicators=()).replace(
        "    indicators:\n", "    indicators: []\n"))
    checked = load(Project(root))
    assert [(f.message, f.rule) for f in checked.errors] == [
        ("scenarios[1].indicators must list at least 1 entry", "schema.minItems")]
    root = project(tmp_path / "q", scenario("a", "unlikely", indicators=()).replace(
        "    indicators:\n", ""))
    checked = load(Project(root))
    assert [(f.message, f.line) for f in checked.errors] == [
        ("scenarios[1] is missing the field 'indicators'", line_of(root, "- id:"))]


def test_blank_indicators_count_as_none(tmp_path: Path) -> None:
    root = project(tmp_path / "p", scenario("a", "unlikely", indicators=("  ",)))
    (found,) = findings(root)
    assert (found.severity, found.line, found.rule) == ("error", line_of(root, '- id: "a"'),
                                                         "tradecraft.no-indicator")
    assert found.message == ("scenario 'a' has no indicator: nothing would tell the reader it "
                             "is unfolding")


def test_an_indicator_under_two_scenarios_is_not_diagnostic(tmp_path: Path) -> None:
    root = project(tmp_path / "p", scenario("a", "unlikely", ("Sadr returns", "Sign A"))
                   + scenario("b", "unlikely", ("Sign B", "sadr  returns.")))
    (found,) = findings(root)
    first = line_of(root, '"Sadr returns"')
    assert found == Finding(
        "warning", PATH, line_of(root, '"sadr  returns."'),
        f"indicator “sadr  returns.” of scenario 'b' is also an indicator of 'a' (line {first}): "
        "it does not tell them apart",
        "keep indicators that point to one scenario only, or say what would differ between "
        "the two", "tradecraft.indicator-not-diagnostic")


ASSUMPTIONS = """\
assumptions:
  - id: "iran-veto"
    text: "Iran keeps a veto."
    if_wrong: "Rapprochement becomes plausible."
    scenarios:
      - "a"
      - "cc"
"""


def test_an_assumption_naming_an_unknown_scenario(tmp_path: Path) -> None:
    root = project(tmp_path / "p", COHERENT, extra=ASSUMPTIONS)
    assert findings(root) == [Finding(
        "error", PATH, line_of(root, '- "cc"'),
        "assumption 'iran-veto' names scenario 'cc', which does not exist",
        "did you mean 'c'?", "tradecraft.assumption-scenario")]


def test_a_scenario_id_used_twice(tmp_path: Path) -> None:
    root = project(tmp_path / "p", scenario("a", "unlikely", ("Sign A",))
                   + scenario("a", "very unlikely", ("Sign B",)))
    (found,) = findings(root)
    assert (found.rule, found.message) == ("tradecraft.duplicate-id",
                                           "scenario id 'a' is used twice")
    assert found.line == [i for i, t in enumerate(
        (root / "report/sections/03-scenarios.md").read_text().splitlines(), 1)
        if '- id: "a"' in t][1]


# --- the vocabulary and the templates ------------------------------------------------


def test_estimative_data() -> None:
    data = tradecraft.estimative()
    assert [r["term"] for r in data["likelihood"]] == list(tradecraft.LIKELIHOOD)
    assert data["likelihood"][4] == {"term": "likely", "alternative": "probable",
                                     "range": "55–80%"}
    assert [r["level"] for r in data["confidence"]] == ["high", "moderate", "low"]
    assert data["confidence"][1]["definition"].startswith("Credibly sourced")


def test_explainer_renders_every_term_and_level(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "p")
    text = assembly.render(Project(root), "explainer.md.j2",
                           estimative=tradecraft.estimative())
    assert text.startswith("::: { #estimative-language .explainer")
    rows = re.findall(r"^\| (.+?) \| (.+?) \|$", text, re.M)
    assert rows[1:8] == [(t, tradecraft.term_range(t)) for t in tradecraft.LIKELIHOOD]
    assert [r[0] for r in rows[9:]] == ["high", "moderate", "low"]
    html = pandoc.convert(text, "html5", [], tmp_path, "test")
    assert html.count("<table") == 2 and "<caption>Likelihood terms</caption>" in html


def scenarios_markdown(root: Path) -> str:
    checked = load(Project(root))
    context = variables.context(checked.brief, checked.evidence.locators)
    section = next(s for s in checked.brief.sections if s.kind == "scenarios")
    return assembly.render(Project(root), "sections/scenarios.md.j2", section=section,
                           sections=checked.brief.sections, **context)


def test_scenario_matrix_what_to_watch_and_assumptions(tmp_path: Path) -> None:
    root = project(tmp_path / "p", COHERENT, extra=ASSUMPTIONS.replace('"cc"', '"c"'))
    text = scenarios_markdown(root)
    assert ("| Scenario | Likeli&shy;hood | Confi&shy;dence | Key drivers | Indicators "
            "| Implications |") in text
    item = '{.cell-item custom-style="Cell Item"}'
    assert (f"| [Scenario A](#scenario-a) | very unlikely (5–20%) | low | [A driver of a]{item} "
            f"| [Sign A]{item} | [An implication of a]{item} |") in text
    assert "\n: Scenario matrix { #scenario-matrix .scenario-matrix}\n" in text
    assert '::: { .what-to-watch custom-style="What To Watch"}' in text
    assert "Pointing to [Scenario C](#scenario-c) (likely):\n\n- Sign C\n" in text
    assert ("[**A1.**]{ #assumption-iran-veto} Iran keeps a veto. *If it is wrong:* "
            "Rapprochement becomes plausible. *Scenarios that rest on it:* "
            "[Scenario A](#scenario-a); [Scenario C](#scenario-c).\n\n") in text
    assert "[Rests on assumption [A1](#assumption-iran-veto).]{.rests-on}" in text
    assert "{#" not in text.replace("{ #", "")  # Jinja comments never eat pandoc ids
    html = pandoc.convert(text, "html5", [], tmp_path, "test")
    assert '<table id="scenario-matrix" class="scenario-matrix"' in html
    assert "<caption>Scenario matrix</caption>" in html
    assert html.count("<tr>") == 4
    assert '<div class="what-to-watch" data-custom-style="What To Watch">' in html
    assert '<span id="assumption-iran-veto">' in html


def test_scenario_matrix_in_docx(tmp_path: Path) -> None:
    import docx

    root = project(tmp_path / "p", COHERENT, extra=ASSUMPTIONS.replace('"cc"', '"c"'))
    out = tmp_path / "out.docx"
    pandoc.convert(scenarios_markdown(root), "docx", [], tmp_path, "test", output=out)
    document = docx.Document(str(out))
    (table,) = document.tables
    assert [c.text.replace("\xad", "") for c in table.rows[0].cells] == [
        "Scenario", "Likelihood", "Confidence", "Key drivers", "Indicators", "Implications"]
    assert [r.cells[1].text for r in table.rows[1:]] == [
        "very unlikely (5–20%)", "unlikely (20–45%)", "likely (55–80%)"]
    styles = {p.style.name: p.text for p in document.paragraphs}
    assert styles["Table Caption"] == "Scenario matrix"
    assert styles["What To Watch"].startswith("Pointing to Scenario C")
    assert "Key Assumptions" in styles
