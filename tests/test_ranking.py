"""Where a new source bears on the brief (policybrief.check.ranking), and how well it ranks."""

from __future__ import annotations

import sys
from pathlib import Path

from policybrief.check import ranking
from policybrief.load import sections
from policybrief.load.sources import read_source, split_passages
from policybrief.model import Project

from conftest import REPO

DATA = REPO / "tests" / "data" / "ranking"


def brief() -> tuple:  # type: ignore[type-arg]
    project = Project(DATA)
    meta, _ = sections.load_meta(project)
    return sections.load_sections(project, meta)[0]


def test_titles_bylines_datelines_infoboxes_and_navigation_are_skipped() -> None:
    text = ("Home | Politics | Iraq | Economy\n\n"
            "Framework leaders meet as Sadrist seats change hands\n\n"
            "Shafaq News, 2022-06-26\n\nBy Staff Writer, Shafaq News Baghdad bureau\n\n"
            "Infobox political party\n- Name: Coordination Framework\n- Leader: collective\n"
            "- Founded: 2021\n\nCoordination Framework\n\n"
            "Home › News › Iraq › Politics\n\n"
            "Leaders of the Coordination Framework met in Baghdad on Sunday to discuss "
            "forming the next government, two weeks after the Sadrist lawmakers resigned.\n")
    passages = split_passages(text, "x.txt")
    kept = [p.text for p in passages if ranking.is_content(
        p, "Framework leaders meet as Sadrist seats change hands")]
    assert kept == [passages[-1].text]


def test_each_hit_says_where_and_why() -> None:
    source = read_source(DATA / "sources" / "shafaq-2022-06-26.txt", "sources/shafaq.txt")
    hits = ranking.rank(source, brief(), limit=5)
    assert hits and all(h.passage.text.startswith(("Leaders", "The replacements", "A source",
                                                   "Sadr said")) for h in hits)
    for hit in hits:
        line = (DATA / hit.claim.path).read_text("utf-8").splitlines()[hit.claim.line - 1]
        assert hit.claim.text.split()[0] in line  # the brief's file:line holds the sentence
        assert len(hit.shared) >= 2 and 0 < hit.score <= 1
    # the resignations of June 2022, which the article reports, are among the first three
    top = [(Path(h.claim.path).name, h.claim.text[:40]) for h in hits[:3]]
    assert ("02-background.md", "Sadr had his deputies resign in June 202") in top


def test_precision_at_3_on_the_labelled_set() -> None:
    sys.path.insert(0, str(REPO / "bench"))
    import ranking as bench_ranking  # bench/ranking.py

    result = bench_ranking.evaluate(k=3)
    assert result["pairs"] >= 30 and result["sources"] >= 5
    assert result["precision"] >= 0.7, result["per_source"]
