"""The README documents every command and every option (as sqlite-utils checks)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from bpnn_steps.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands():
    group = typer.main.get_command(app)
    return sorted(group.commands.items())


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_every_command_is_documented(name: str) -> None:
    assert f"bpnn-steps {name}" in README


@pytest.mark.parametrize("command,option", [
    (name, opt)
    for name, cmd in _commands()
    for param in cmd.params
    for opt in param.opts
    if opt.startswith("--") and opt != "--help"
])
def test_every_option_is_documented(command: str, option: str) -> None:
    assert option in README, f"bpnn-steps {command} {option} is not in the README"
