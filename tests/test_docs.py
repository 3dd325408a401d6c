"""Every setting and every command is documented in the README."""

from __future__ import annotations

from pathlib import Path

from mailarchive.cli import main
from mailarchive.config import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme() -> None:
    for setting in SETTINGS:
        assert f"| `{setting.name}` |" in README, setting.name


def test_every_command_is_in_the_readme() -> None:
    for name in main.commands:  # type: ignore[attr-defined]
        assert f"`mailarchive {name}" in README, name
