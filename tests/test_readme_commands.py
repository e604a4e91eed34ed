"""Every shell command the README and docs/ show exists, with the options shown.

Commands come from fenced ``sh``/``bash``/``console``/``shell`` blocks (each line, each
part of ``&&``, ``;`` and ``|``, and each ``$(…)``) and from inline code that starts
with ``brief`` or ``make``. A ``brief`` command in a fenced block is parsed by click
exactly as the shell would pass it (subcommands, options, their values, arguments); an
inline one names a command and options (``brief sources add`` names the command, its
arguments may be left out). A ``make`` command names targets of the Makefile. Any other
program must be one the README tells the reader to have, or a file of the repository.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from policybrief.cli import cli

from conftest import REPO

FENCE = re.compile(r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```", re.S | re.M)
SHELL = ("sh", "bash", "console", "shell")
INLINE = re.compile(r"(?<!`)`((?:\.venv/bin/)?(?:brief|make)(?: [^`]*)?)`(?!`)")
SUBSHELL = re.compile(r"\$\(([^()]*)\)")
# Programs the README's prerequisites name, the shell's own commands, and the few POSIX
# file utilities every machine has.
KNOWN = {"sudo", "apt-get", "dnf", "brew", "cd", "source", "eval", "npm", "git", "python3",
         "export", "cp", "mv", "rm", "mkdir", "ls"}
PLACEHOLDER = re.compile(r"^(?:[A-Z][A-Z_]*(?:\.\.\.)?|…|\.\.\.)$")  # NAME, COMMAND, …


@dataclass(frozen=True)
class Shown:
    where: str   # file:line
    words: tuple[str, ...]
    fenced: bool

    def __str__(self) -> str:
        return f"{self.where}: {' '.join(self.words)}"


def documents() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def split(line: str) -> Iterator[tuple[str, ...]]:
    """The simple commands of one shell line, without comments and redirections."""
    for inner in SUBSHELL.findall(line):
        yield from split(inner)
    lexer = shlex.shlex(SUBSHELL.sub("SUBSHELL", line), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    words: list[str] = []
    skip = False
    for token in lexer:
        if token in ("&&", "||", ";", "|", "&"):
            if words:
                yield tuple(words)
            words = []
        elif token in (">", ">>", "<", "2>"):
            skip = True  # the file name after a redirection
        elif skip:
            skip = False
        else:
            words.append(token)
    if words:
        yield tuple(words)


def shown() -> list[Shown]:
    found: list[Shown] = []
    for path in documents():
        text = path.read_text("utf-8")
        rel = path.relative_to(REPO).as_posix()
        fenced_spans = []
        for block in FENCE.finditer(text):
            fenced_spans.append(block.span())
            if block["lang"] not in SHELL:
                continue
            first = text.count("\n", 0, block.start("body")) + 1
            for offset, line in enumerate(block["body"].split("\n")):
                for words in split(line.removeprefix("$ ")):
                    found.append(Shown(f"{rel}:{first + offset}", words, True))
        for match in INLINE.finditer(text):
            if any(a <= match.start() < b for a, b in fenced_spans):
                continue
            line = text.count("\n", 0, match.start()) + 1
            for words in split(match.group(1)):
                found.append(Shown(f"{rel}:{line}", words, False))
    return found


def targets() -> set[str]:
    makefile = (REPO / "Makefile").read_text("utf-8")
    names = set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", makefile, re.M))
    return names


def long_and_short(command: click.Command) -> dict[str, click.Option]:
    options: dict[str, click.Option] = {}
    for param in command.get_params(click.Context(command)):
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                options[name] = param
    return options


def walk_brief(words: tuple[str, ...]) -> str | None:
    """A problem with an inline ``brief …``: a command or option that does not exist."""
    command: click.Command = cli
    path = ["brief"]
    rest = list(words[1:])
    while rest:
        word = rest.pop(0)
        if PLACEHOLDER.match(word):
            return None  # `brief COMMAND --help`: any command
        if word.startswith("-"):
            options = long_and_short(command)
            name = word.split("=", 1)[0]
            if name not in options:
                return f"{' '.join(path)} has no option {name}"
            if not options[name].is_flag and "=" not in word and rest:
                rest.pop(0)  # its value
            continue
        if isinstance(command, click.Group):
            sub = command.commands.get(word)
            if sub is None:
                return f"{' '.join(path)} has no command '{word}'"
            command = sub
            path.append(word)
            continue
        # an argument: the options after it still belong to this command
    return None


def parse_brief(words: tuple[str, ...]) -> str | None:
    """A problem with a fenced ``brief …``: parsed by click as the shell would pass it."""
    args = [w for w in words[1:] if not PLACEHOLDER.match(w)]
    try:
        context = cli.make_context("brief", list(args))
        command: click.Command = cli
        while isinstance(command, click.Group):
            rest = [*context._protected_args, *context.args]  # (the public name is deprecated)
            if not rest:
                break
            name, sub, rest = command.resolve_command(context, rest)
            assert sub is not None and name is not None
            context = sub.make_context(name, rest, parent=context)
            command = sub
    except click.exceptions.Exit:
        return None  # --help, --version
    except click.ClickException as exc:
        return exc.format_message()
    return None


def problem(item: Shown) -> str | None:
    program, *rest = item.words
    if program.endswith("brief") and program in ("brief", ".venv/bin/brief"):
        return (parse_brief if item.fenced else walk_brief)(item.words)
    if program == "make":
        known = targets()
        for word in rest:
            if word.startswith("-") or "=" in word:
                continue  # an option, a variable (make BRIEF=…)
            if word not in known:
                return f"the Makefile has no target '{word}'"
        return None
    if program in KNOWN:
        return None
    if "/" in program:
        return None if (REPO / program).exists() else f"no file {program} in the repository"
    return f"'{program}' is not a command the README tells the reader to have"


def test_the_documents_show_commands() -> None:
    """The extraction finds what it should (so the test below cannot pass empty)."""
    words = {item.words for item in shown()}
    assert ("make", "brief") in words and ("make", "test") in words
    assert ("brief", "sources", "add", "~/Downloads/report.pdf") in words
    assert ("brief", "completion", "bash") in words  # from eval "$(…)"
    assert any(w[:2] == ("brief", "init") and "--title" in w for w in words)
    assert len(words) > 40


@pytest.mark.parametrize("item", shown(), ids=str)
def test_every_command_shown_exists(item: Shown) -> None:
    assert problem(item) is None, f"{item}: {problem(item)}"


@pytest.mark.parametrize("words, fenced", [
    (("brief", "biuld"), True),
    (("brief", "check", "--stirct"), True),
    (("brief", "build", "--format"), True),
    (("brief", "sources", "add"), True),
    (("brief", "sources", "ad"), False),
    (("brief", "check", "--pairty"), False),
    (("make", "brief", "tset"), False),
    (("bref", "build"), True),
    (("tools/no-such-script.sh",), True),
])
def test_a_wrong_command_is_caught(words: tuple[str, ...], fenced: bool) -> None:
    assert problem(Shown("x:1", words, fenced)) is not None
