"""How good is "it bears most on"? Precision@3 of the ranking on a labelled set.

The set (tests/data/ranking/) is a frozen copy of the brief (report/), new sources
written for it (sources/) and labels (labels.yaml): for passages of those sources, the
sentences of the brief they bear on. For each source the report's ranking is computed
as ``brief sources add`` shows it; a shown hit (passage ¶ N ↔ brief sentence at
file:line) is right when the labels pair that passage with that sentence. Precision@3
is the share of right hits among each source's first three, averaged over the sources.

    .venv/bin/python bench/ranking.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "ranking"


def load_labels(data: Path = DATA) -> list[dict[str, Any]]:
    import yaml

    return list(yaml.safe_load((data / "labels.yaml").read_text("utf-8")))


def _claim_matches(label: str, path: str, line: int, text: str) -> bool:
    where, _, start = label.partition(" ")
    name, _, number = where.rpartition(":")
    return path.endswith("/" + name) and line == int(number) and text.startswith(start)


def evaluate(k: int = 3, data: Path = DATA) -> dict[str, Any]:
    """Precision@k per source and overall, and every hit shown with its verdict."""
    from policybrief.check import ranking
    from policybrief.load import sections
    from policybrief.load.sources import read_source
    from policybrief.model import Project

    project = Project(data)
    meta, _ = sections.load_meta(project)
    loaded, _ = sections.load_sections(project, meta)
    claims = ranking.claims(loaded)
    labels = load_labels(data)
    for row in labels:  # every label names a sentence of the brief: a typo fails loudly
        for label in row["claims"]:
            if not any(_claim_matches(label, c.path, c.line, c.text) for c in claims):
                raise ValueError(f"labels.yaml: no sentence of the brief is '{label}'")
    per_source: dict[str, float] = {}
    shown: list[dict[str, Any]] = []
    pairs = sum(len(row["claims"]) for row in labels)
    for name in sorted({row["source"] for row in labels}):
        path = data / "sources" / name
        source = read_source(path, f"sources/{name}")
        rows = [row for row in labels if row["source"] == name]
        for row in rows:
            if not any(p.text.startswith(row["passage"]) for p in source.passages):
                raise ValueError(f"labels.yaml: no passage of {name} starts "
                                 f"'{row['passage']}'")
        hits = ranking.rank(source, loaded, limit=k)
        right = 0
        for hit in hits:
            ok = any(hit.passage.text.startswith(row["passage"]) and any(
                _claim_matches(label, hit.claim.path, hit.claim.line, hit.claim.text)
                for label in row["claims"]) for row in rows)
            right += ok
            shown.append({"source": name, "passage": hit.passage.number,
                          "claim": f"{hit.claim.path}:{hit.claim.line}",
                          "score": hit.score, "shared": list(hit.shared), "right": ok})
        per_source[name] = right / k
    overall = sum(per_source.values()) / len(per_source)
    return {"precision_at": k, "precision": overall, "per_source": per_source,
            "sources": len(per_source), "pairs": pairs, "hits": shown}


def main() -> int:
    result = evaluate()
    print(json.dumps(result, indent=1, ensure_ascii=False))
    print(f"precision@{result['precision_at']}: {result['precision']:.2f} "
          f"({result['sources']} sources, {result['pairs']} labelled pairs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
