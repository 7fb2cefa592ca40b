"""The docs document every command and every option (as sqlite-utils checks), and
every link in them leads somewhere.

Each command X has its reference page docs/X.md, linked from the README, which
names every option of X; the README stays a short tour that links to the pages.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from bpnn_steps.cli import app

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
README = (REPO / "README.md").read_text(encoding="utf-8")
PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]


def _commands():
    group = typer.main.get_command(app)
    return sorted(group.commands.items())


def _page(command: str) -> Path:
    return DOCS / f"{command}.md"


def _without_code_blocks(text: str) -> str:
    """The text with fenced code blocks blanked out (a '#' comment in a YAML block
    is not a heading); line numbers are kept."""
    return re.sub(r"^```.*?^```", lambda m: "\n" * m.group(0).count("\n"), text,
                  flags=re.S | re.M)


def _without_code(text: str) -> str:
    """... and inline code spans too (a '[x](y)' in code is not a link)."""
    return re.sub(r"`[^`\n]*`", "``", _without_code_blocks(text))


def _option_written(option: str, text: str) -> bool:
    # as a whole word: '--lr' is not documented by '--lr-foo', nor '-e' by '--epochs'
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_every_command_is_documented(name: str) -> None:
    assert f"bpnn-steps {name}" in README


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_every_command_has_a_page_linked_from_the_readme(name: str) -> None:
    page = _page(name)
    assert page.exists(), f"bpnn-steps {name} has no reference page docs/{name}.md"
    assert f"bpnn-steps {name}" in page.read_text(encoding="utf-8")
    assert f"](docs/{name}.md)" in README, f"the README does not link to docs/{name}.md"


@pytest.mark.parametrize("command,option", [
    (name, opt)
    for name, cmd in _commands()
    for param in cmd.params
    for opt in [*param.opts, *param.secondary_opts]
    if opt.startswith("-") and opt != "--help"
])
def test_every_option_is_documented(command: str, option: str) -> None:
    text = _page(command).read_text(encoding="utf-8") if _page(command).exists() else ""
    assert _option_written(option, text), (
        f"bpnn-steps {command} {option} is not in docs/{command}.md")


def test_every_page_is_linked_from_the_readme() -> None:
    for page in sorted(DOCS.glob("*.md")):
        assert f"](docs/{page.name})" in README, f"the README does not link to docs/{page.name}"


# --------------------------------------------------------------------------- links


def _anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation other than '-' and '_'
    dropped, spaces as '-'; a repeated heading gets '-1', '-2', ..."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    for m in re.finditer(r"^#{1,6} +(.+?) *#*$", _without_code_blocks(text), re.M):
        slug = re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def _links(page: Path) -> list[tuple[int, str]]:
    text = _without_code(page.read_text(encoding="utf-8"))
    return [(text[:m.start()].count("\n") + 1, m.group(1))
            for m in re.finditer(r"\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)", text)]


LINKS = [(page, line, target) for page in PAGES for line, target in _links(page)
         if not re.match(r"[a-z][a-z0-9+.-]*:", target)]   # http:, https:, mailto: ...


@pytest.mark.parametrize("page,line,target", LINKS,
                         ids=[f"{p.relative_to(REPO)}:{line}" for p, line, _ in LINKS])
def test_every_relative_link_resolves(page: Path, line: int, target: str) -> None:
    path, _, anchor = target.partition("#")
    file = (page.parent / path).resolve() if path else page
    where = f"{page.relative_to(REPO)}:{line}: {target}"
    assert file.exists(), f"{where}: no such file"
    if anchor:
        assert file.suffix == ".md", f"{where}: an anchor into a file that is not Markdown"
        assert anchor in _anchors(file.read_text(encoding="utf-8")), f"{where}: no such heading"


def test_the_docs_have_links() -> None:
    """The link check above finds the README's links (a change of syntax would skip them)."""
    assert sum(1 for page, _, _ in LINKS if page.name == "README.md") >= len(_commands())
