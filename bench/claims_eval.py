"""Precision and recall of the claim checks on the labelled pairs in tests/claims/.

Each pair is a sentence and the passages it cites (found in the real seeds by their
quotes); the claim checks run on it, and what they report is compared with the labels:
for ``claim.number`` and ``claim.name`` item by item (each number or name reported or
expected), for ``claim.hedge-dropped`` pair by pair. The pairs' names come from the
default brief's actor map, as ``brief check`` reads it.

    .venv/bin/python bench/claims_eval.py      # prints the table
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PAIRS = REPO / "tests" / "claims" / "pairs.yaml"
KEYS = {"w": "wikipedia-sadrist-khomeinist", "r": "rasanah2024rifts"}
TARGETS = {"claim.number": (0.9, 0.8), "claim.name": (0.9, 0.8),
           "claim.hedge-dropped": (0.8, 0.7)}


def _same(a: str, b: str) -> bool:
    a, b = a.casefold(), b.casefold()
    return a in b or b in a


def evaluate(root: Path = REPO) -> dict[str, Any]:
    """{rule: {tp, fp, fn, precision, recall}, "errors": [...], "pairs": n}."""
    import yaml

    from policybrief.check import claims
    from policybrief.check.quotes import QuoteIndex
    from policybrief.load.bibliography import load_bibliography
    from policybrief.load.seeds import load_sources
    from policybrief.model import Project

    project = Project(root)
    entries = load_bibliography(project.bibliography, "bibliography.bib")
    sources, _ = load_sources(project, entries)
    index = QuoteIndex(sources)
    texts = [p.text for s in sources.values() for p in s.passages]
    texts += [p.read_text("utf-8") for p in sorted(project.sections_dir.glob("*.md"))]
    table = claims.load_names(root, entries, texts)
    facts = claims._PassageFacts()
    pairs = yaml.safe_load(PAIRS.read_text("utf-8"))
    counts = {rule: {"tp": 0, "fp": 0, "fn": 0} for rule in TARGETS}
    errors: list[str] = []
    for pair in pairs:
        cited = []
        for key, quote in pair["cites"]:
            match = index.find(KEYS[key], quote)
            if match is None:
                raise ValueError(f"{pair['id']}: quote not found in {KEYS[key]}: {quote}")
            cited.append(claims.Cited(KEYS[key], match.passage, (match.start, match.end)))
        result = claims.assess(pair["sentence"], cited, table, facts)
        for rule, got, want in (
                ("claim.number", [n.text for n in result.missing_numbers],
                 pair.get("number") or []),
                ("claim.name", result.missing_names, pair.get("name") or [])):
            c = counts[rule]
            for g in got:
                if any(_same(g, w) for w in want):
                    c["tp"] += 1
                else:
                    c["fp"] += 1
                    errors.append(f"{pair['id']} {rule}: reported ‘{g}’, not expected")
            for w in want:
                if not any(_same(g, w) for g in got):
                    c["fn"] += 1
                    errors.append(f"{pair['id']} {rule}: missed ‘{w}’")
        dropped, want_hedge = bool(result.dropped), bool(pair.get("hedge"))
        c = counts["claim.hedge-dropped"]
        if dropped and want_hedge:
            c["tp"] += 1
        elif dropped:
            c["fp"] += 1
            errors.append(f"{pair['id']} hedge: reported, not expected")
        elif want_hedge:
            c["fn"] += 1
            errors.append(f"{pair['id']} hedge: missed")
    out: dict[str, Any] = {"pairs": len(pairs), "errors": errors}
    for rule, c in counts.items():
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        out[rule] = {**c, "precision": round(p, 3), "recall": round(r, 3),
                     "targets": TARGETS[rule]}
    return out


def table(result: dict[str, Any]) -> str:
    lines = [f"claim checks on {result['pairs']} labelled pairs (tests/claims/pairs.yaml)",
             f"{'rule':<22}{'tp':>4}{'fp':>4}{'fn':>4}{'precision':>11}{'recall':>8}"
             "  targets"]
    for rule in TARGETS:
        r = result[rule]
        ok = r["precision"] >= r["targets"][0] and r["recall"] >= r["targets"][1]
        lines.append(f"{rule:<22}{r['tp']:>4}{r['fp']:>4}{r['fn']:>4}"
                     f"{r['precision']:>11.2f}{r['recall']:>8.2f}  ≥{r['targets'][0]} / "
                     f"≥{r['targets'][1]} {'met' if ok else 'MISSED'}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    res = evaluate()
    print(table(res))
    for e in res["errors"]:
        print("  " + e)
