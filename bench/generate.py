"""Synthetic but realistic briefs for the benchmark, at any multiple of the default brief.

``generate(dest, scale)`` writes a complete, valid project (report/brief.yaml, section
files of every kind, bibliography.bib, seeds/ and a copy of the repository's templates/)
that ``brief check`` passes without findings. At 1× it has the default brief's shape: 8
sections (one of each kind, in the default order), about 90 citations, every one with a
verbatim quote, and 2 stored sources of about 35 kB together. At N× it has 8·N sections,
2·N sources and about 90·N citations.

The prose is not one paragraph repeated: an order-2 word Markov chain trained on the
repository's own seeds (real policy text) writes every sentence, so word lengths,
punctuation and line breaking look like the real thing while no two paragraphs are the
same. Each source is written first and split with the pipeline's own passage splitter;
quotes are then cut verbatim from those passages, so every one is found, and each
source is cited. Output is deterministic for a given (scale, seed).

    .venv/bin/python bench/generate.py /tmp/brief-10x --scale 10
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SECTION_KINDS = ("summary", "background", "motives", "opportunities", "challenges",
                 "scenarios", "implications", "method")
LIKELIHOODS = ("very unlikely", "unlikely", "roughly even chance", "likely", "very likely")
# a set of mutually exclusive scenarios: at most one "likely", lower bounds within 100%
SCENARIO_SETS = (("likely", "unlikely", "very unlikely"),
                 ("roughly even chance", "unlikely", "very unlikely"),
                 ("roughly even chance", "roughly even chance", "very unlikely"))
CONFIDENCES = ("low", "moderate", "high")
# only characters that mean nothing to pandoc Markdown, BibTeX, YAML or the citation syntax
_WORD = re.compile(r"^[A-Za-z0-9’'–-][A-Za-z0-9’'–.,;:?!-]*$")
_FALLBACK = (
    "The coalition government weighed its options carefully after the election, while "
    "rival factions argued over the pace of reform. Observers noted that the movement's "
    "leader had withdrawn from politics before, only to return when the balance of power "
    "shifted. Regional powers watched the negotiations closely, since the outcome would "
    "shape the security arrangements along the border. Analysts disagree about whether "
    "the alliance can survive another crisis of this kind."
)


# --- text ------------------------------------------------------------------------------


class Prose:
    """An order-2 word Markov chain over the seeds' text, seeded for repeatability."""

    def __init__(self, rng: random.Random, corpus: str | None = None) -> None:
        self.rng = rng
        try:  # a sentence must not give a likelihood and a confidence level together
            from policybrief.check.tradecraft import mixed
        except ImportError:  # pragma: no cover
            def mixed(sentence: str) -> object:
                return None
        self.mixed = mixed
        words = [w for w in (corpus if corpus is not None else _corpus()).split()
                 if _WORD.match(w)]
        if len(words) < 200:
            words = _FALLBACK.split() * 3
        self.chain: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.starts: list[tuple[str, str]] = []
        for a, b, c in zip(words, words[1:], words[2:], strict=False):
            self.chain[(a, b)].append(c)
            if a.endswith((".", "?", "!")) and b[:1].isupper():
                self.starts.append((b, c))
        if not self.starts:
            self.starts = [(words[0], words[1])]

    def sentence(self, low: int = 9, high: int = 32) -> str:
        for _ in range(50):
            a, b = self.rng.choice(self.starts)
            out = [a, b]
            while len(out) < high:
                nxt = self.chain.get((a, b))
                if not nxt:
                    break
                word = self.rng.choice(nxt)
                out.append(word)
                a, b = b, word
                if word.endswith((".", "?", "!")) and len(out) >= low:
                    break
            text = " ".join(out).rstrip(",;:–-")
            if len(out) >= low and text[:1].isalpha() and self.mixed(text) is None:
                text = text[0].upper() + text[1:]
                return text if text.endswith((".", "?", "!")) else text + "."
        return "The situation remained uncertain throughout the period under review."

    def paragraph(self, low: int = 3, high: int = 6) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(low, high)))

    def phrase(self, low: int = 3, high: int = 8) -> str:
        """A short title-like phrase (no final stop)."""
        words = self.sentence().rstrip(".?!").split()
        start = self.rng.randint(0, max(0, len(words) - low))
        text = " ".join(words[start: start + self.rng.randint(low, high)]).strip(",;:–- ")
        text = text or "Outlook"
        return text[0].upper() + text[1:]


def _corpus() -> str:
    """The text of the repository's seeds, stripped of Markdown and wiki markup."""
    parts = []
    seeds = REPO / "seeds"
    if seeds.is_dir():
        for path in sorted(seeds.iterdir()):
            if path.suffix in (".md", ".txt") and not path.name.startswith(("README", ".")):
                text = path.read_text("utf-8", errors="replace")
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links
                text = re.sub(r"^[#=].*$|^\s*[-*]\s.*$", "", text, flags=re.M)  # headings, lists
                parts.append(text)
    return "\n".join(parts)


# --- sources ---------------------------------------------------------------------------


@dataclass
class Src:
    key: str
    file: str
    title: str
    author: str
    year: int
    kind: str  # bibtex type
    passages: list[str]  # display texts, as the pipeline's splitter makes them
    used: int = 0


def source_text(prose: Prose, title: str, paragraphs: int) -> str:
    """A stored source: a title, headed parts, paragraphs and the odd bulleted list."""
    rng = prose.rng
    lines = [f"# {title}", ""]
    for i in range(paragraphs):
        if i % 6 == 0:
            lines += [f"## {prose.phrase(2, 6)}", ""]
        if rng.random() < 0.08:
            lines += [f"- {prose.sentence(6, 18)}" for _ in range(rng.randint(2, 4))]
        else:
            lines.append(prose.paragraph(3, 7))
        lines.append("")
    return "\n".join(lines)


def make_sources(prose: Prose, count: int, paragraphs: int = 24) -> list[tuple[Src, str]]:
    from policybrief.load.sources import split_passages

    rng = prose.rng
    out = []
    for n in range(1, count + 1):
        title = prose.phrase(4, 9)
        kind = ("report", "online", "article")[n % 3]
        stem = re.sub(r"[^a-z]+", "", title.split()[0].lower())[:10] or "source"
        year = 2015 + n % 10
        key = f"src{n:03d}-{stem}{year}"
        suffix = ".txt" if n % 4 == 0 else ".md"
        file = f"seeds/{key}{suffix}"
        text = source_text(prose, title, paragraphs + rng.randint(-4, 4))
        passages = [p.text for p in split_passages(text, file)]
        author = f"{prose.phrase(1, 3)} Institute"
        out.append((Src(key, file, title, author, year, kind, passages), text))
    return out


def quote_from(src: Src, rng: random.Random) -> str:
    """A verbatim run of 5–16 words from one passage of ``src``."""
    for _ in range(20):
        text = rng.choice(src.passages)
        words = text.split()
        if len(words) < 6:
            continue
        size = rng.randint(5, min(16, len(words)))
        start = rng.randint(0, len(words) - size)
        quote = " ".join(words[start: start + size]).strip(",;:")
        if '"' not in quote and "“" not in quote and len(quote) > 20:
            src.used += 1
            return quote
    words = src.passages[0].split()
    src.used += 1
    return " ".join(words[: min(8, len(words))])


# --- sections --------------------------------------------------------------------------


def own(sentence: str) -> str:
    """A sentence marked as the brief's own judgment (exempt from the claim checks)."""
    return f"[{sentence}]{{.own}}"


def around(sources: list[Src], ref: dict[str, str]) -> str:
    """A sentence that says what the cited passage says: its quoted words, attributed
    (so that a hedge of the passage's sentence is not dropped)."""
    # a quote that runs over a sentence's end is cut to its longest sentence
    pieces = [p.strip() for p in re.split(r"(?<=[.?!])\s+", ref["quote"]) if p.strip()]
    if len(pieces) > 1:
        ref["quote"] = max(pieces, key=len).rstrip(".?!")
    return f"On its account, {ref['quote'].rstrip('.?!,;:')}."


class Writer:
    def __init__(self, prose: Prose, sources: list[Src]) -> None:
        self.prose = prose
        self.rng = prose.rng
        self.sources = sources
        self.turn = 0
        self.ids = 0
        self.phrases: set[str] = set()

    def unique_phrase(self) -> str:
        """A list entry no other scenario has (a shared indicator is not diagnostic)."""
        for _ in range(20):
            text = self.prose.phrase(5, 12)
            if text.casefold() not in self.phrases:
                break
        self.phrases.add(text.casefold())
        return text

    def source(self) -> Src:
        """Sources in turn, so that every one is cited, with some random picks."""
        if self.rng.random() < 0.7:
            src = self.sources[self.turn % len(self.sources)]
            self.turn += 1
            return src
        return self.rng.choice(self.sources)

    def refs(self, low: int, high: int) -> list[dict[str, str]]:
        out = []
        for _ in range(self.rng.randint(low, high)):
            src = self.source()
            for _ in range(20):  # a quote found in one passage only: the one it echoes
                quote = quote_from(src, self.rng)
                if sum(quote in p for p in src.passages) == 1 and not quote[:1].isdigit():
                    break
            out.append({"key": src.key, "quote": quote})
        return out

    def inline(self, refs: list[dict[str, str]]) -> str:
        items = [f'@{r["key"]}, quote "{r["quote"]}"' for r in refs]
        return "[" + "; ".join(items) + "]"

    def cited_paragraph(self, sentences: tuple[int, int] = (3, 6), cites: int = 2) -> str:
        """Prose with citations after some sentences (every paragraph carries one).

        As in a real brief, a cited sentence says what its passage says (here: the
        passage's own sentence around the quote, so its numbers, names and hedges are
        the passage's), and the prose between is the brief's own, marked as such.
        """
        parts = [own(self.prose.sentence()) for _ in range(self.rng.randint(*sentences))]
        where = sorted(self.rng.sample(range(len(parts)), min(cites, len(parts))))
        for k in where:
            refs = self.refs(1, 1)
            said = around(self.sources, refs[0])
            parts[k] = said[:-1] + " " + self.inline(refs) + said[-1]
        return " ".join(parts)

    def own_paragraph(self, low: int = 3, high: int = 5,
                      refs: list[dict[str, str]] | None = None) -> str:
        """An item's paragraph: its first sentence from the first cited passage (when
        given), the rest the brief's own."""
        parts = [own(self.prose.sentence()) for _ in range(self.rng.randint(low, high))]
        if refs:
            parts[0] = around(self.sources, refs[0])
        return " ".join(parts)

    def body(self, paragraphs: int, cites: int = 2) -> str:
        return "\n\n".join(self.cited_paragraph((3, 6), cites) for _ in range(paragraphs))

    def block(self, text: str, indent: int = 6) -> str:
        pad = " " * indent
        return "|\n" + "\n".join(pad + line if line else "" for line in text.split("\n"))

    def citations_yaml(self, refs: list[dict[str, str]], indent: int) -> list[str]:
        pad = " " * indent
        lines = [f"{pad}citations:"]
        for ref in refs:
            lines.append(f"{pad}  - key: {json.dumps(ref['key'])}")
            lines.append(f"{pad}    quote: {json.dumps(ref['quote'], ensure_ascii=False)}")
        return lines

    def section(self, kind: str, number: int) -> str:
        title = f"{self.prose.phrase(3, 7)} ({number})"
        head = ["---", f"kind: {json.dumps(kind)}", f"title: {json.dumps(title)}"]
        body = ""
        if kind == "summary":
            head.append("judgments:")
            for _ in range(5):
                refs = self.refs(2, 3)
                head.append(f"  - text: {self.block(self.own_paragraph(2, 3, refs))}")
                if self.rng.random() < 0.7:
                    head.append(f"    likelihood: {json.dumps(self.rng.choice(LIKELIHOODS))}")
                head.append(f"    confidence: {json.dumps(self.rng.choice(CONFIDENCES[:2]))}")
                head.append(f"    attribution: {json.dumps('brief')}")
                head += self.citations_yaml(refs, 4)
            body = self.body(1, 2)
        elif kind in ("background", "method"):
            body = self.body(7 if kind == "background" else 5, 3 if kind == "background" else 2)
        elif kind in ("motives", "opportunities", "challenges", "implications"):
            head.append("items:")
            for i in range(3):
                refs = self.refs(2, 3)
                text = "\n\n".join(self.own_paragraph(3, 5, refs if n == 0 else None)
                                   for n in range(self.rng.randint(1, 3)))
                title = f"{self.prose.phrase(3, 7)} ({number}.{i + 1})"
                head.append(f"  - title: {json.dumps(title)}")
                head.append(f"    text: {self.block(text)}")
                head += self.citations_yaml(refs, 4)
            body = self.body(1, 1)
        elif kind == "scenarios":
            head.append("scenarios:")
            chances = list(self.rng.choice(SCENARIO_SETS))
            self.rng.shuffle(chances)
            for i in range(3):
                self.ids += 1
                head.append(f"  - id: \"s{number}-{i + 1}\"")
                title = f"{self.prose.phrase(3, 7)} ({number}.{i + 1})"
                head.append(f"    title: {json.dumps(title)}")
                refs = self.refs(2, 3)
                text = "\n\n".join(self.own_paragraph(3, 5, refs if n == 0 else None)
                                   for n in range(2))
                head.append(f"    narrative: {self.block(text)}")
                head.append(f"    likelihood: {json.dumps(chances[i])}")
                head.append(f"    confidence: {json.dumps(self.rng.choice(CONFIDENCES[:2]))}")
                head.append(f"    attribution: {json.dumps('brief')}")
                for name in ("drivers", "indicators", "implications"):
                    head.append(f"    {name}:")
                    for _ in range(self.rng.randint(2, 4)):
                        head.append(f"      - {json.dumps(self.unique_phrase())}")
                head += self.citations_yaml(refs, 4)
            body = self.body(1, 2)
        head.append("---")
        return "\n".join(head) + "\n" + body + "\n"


# --- the project -----------------------------------------------------------------------


def bibtex(src: Src) -> str:
    fields = [("author", "{" + src.author + "}"), ("title", src.title),
              ("date", f"{src.year}-0{1 + src.year % 9}-1{src.year % 10}"),
              ("year", str(src.year)),
              ("url", f"https://example.org/{src.key}"), ("file", src.file)]
    if src.kind == "report":
        fields.insert(2, ("institution", src.author))
    elif src.kind == "online":
        fields.insert(2, ("organization", src.author))
    else:
        fields.insert(2, ("journaltitle", "Journal of Regional Politics"))
    body = ",\n".join(f"  {name:<12} = {{{value}}}" for name, value in fields)
    return f"@{src.kind}{{{src.key},\n{body}\n}}\n"


def kinds_for(scale: int) -> list[str]:
    """The default order, repeated; only the first section is the summary."""
    kinds = []
    for n in range(8 * scale):
        kind = SECTION_KINDS[n % 8]
        kinds.append("background" if kind == "summary" and n else kind)
    return kinds


def generate(dest: Path, scale: int = 1, seed: int = 0, templates: bool = True) -> Path:
    """Write a project at ``dest`` (which must not exist or be empty); return it."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"policybrief-bench-{scale}-{seed}")
    prose = Prose(rng)
    made = make_sources(prose, 2 * scale)
    (dest / "seeds").mkdir(exist_ok=True)
    for src, text in made:
        (dest / src.file).write_text(text, "utf-8")
    sources = [src for src, _ in made]
    writer = Writer(prose, sources)
    names = []
    sections_dir = dest / "report" / "sections"
    sections_dir.mkdir(parents=True, exist_ok=True)
    for n, kind in enumerate(kinds_for(scale), 1):
        name = f"{n:03d}-{kind}.md"
        (sections_dir / name).write_text(writer.section(kind, n), "utf-8")
        names.append(name)
    (dest / "bibliography.bib").write_text("\n".join(bibtex(s) for s in sources), "utf-8")
    meta = [
        f"title: {json.dumps(f'Synthetic brief at {scale}x')}",
        f"subtitle: {json.dumps(prose.phrase(5, 10))}",
        'date: "2024-05-20"',
        'cutoff: "2024-05-05"',
        'institution: "Policybrief Benchmark Desk"',
        "series:",
        '  name: "Benchmark Briefs"',
        f'  number: "{scale}"',
        "authors:",
        '  - name: "Bench Generator"',
        'language: "en-GB"',
        'csl: "chicago-notes-bibliography"',
        'licence: "CC BY-SA 4.0"',
        "sections:",
        *[f"  - {json.dumps(n)}" for n in names],
    ]
    (dest / "report" / "brief.yaml").write_text("\n".join(meta) + "\n", "utf-8")
    if templates and (REPO / "templates").is_dir() and not (dest / "templates").exists():
        shutil.copytree(REPO / "templates", dest / "templates", symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def quote_workload(quotes: int = 5000, sources: int = 100, seed: int = 0) -> tuple:
    """In-process inputs for the quote check: (sections, entries, sources) for
    ``checks.check_citations``. Quotes are verbatim (90%), differ in case or punctuation
    only (9%: found after normalisation) or are not in the source (1%: near-miss search)."""
    from policybrief.model import Citation, Entry, Section, Source

    rng = random.Random(f"policybrief-quotes-{quotes}-{sources}-{seed}")
    prose = Prose(rng)
    made = make_sources(prose, sources)
    from policybrief.load.sources import split_passages

    srcs = {s.key: Source(s.file, s.title, "0" * 64, split_passages(text, s.file))
            for s, text in made}
    entries = {s.key: Entry(s.key, s.kind, {"title": s.title, "file": s.file},
                            "bibliography.bib", i + 1) for i, (s, _) in enumerate(made)}
    by_section: list[list[Citation]] = [[] for _ in range(max(1, quotes // 100))]
    for n in range(quotes):
        src = made[n % len(made)][0]
        quote = quote_from(src, rng)
        roll = rng.random()
        if roll < 0.09:  # another case, straight for curly apostrophes
            quote = quote.upper() if n % 2 else quote.swapcase().replace("’", "'")
        elif roll < 0.10:  # a misquotation: one word changed
            words = quote.split()
            words[len(words) // 2] = "reportedly"
            quote = " ".join(words)
        by_section[n % len(by_section)].append(
            Citation(src.key, None, quote, f"report/sections/{n % len(by_section):03d}.md",
                     n + 1))
    sections = tuple(
        Section(f"report/sections/{i:03d}.md", 1, "background", f"S{i}", f"s{i}", {}, {},
                "", 5, tuple(cites))
        for i, cites in enumerate(by_section))
    return sections, entries, srcs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.dest.exists() and any(args.dest.iterdir()):
        print(f"{args.dest} is not empty", file=sys.stderr)
        return 2
    generate(args.dest, args.scale, args.seed)
    print(f"wrote a {args.scale}x brief to {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
