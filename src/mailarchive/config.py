"""Settings: one typed table (name, default, help), read from a TOML file and the environment.

The file is given by `--config FILE` or `$MAILARCHIVE_CONFIG`; any setting can also be set as
`MAILARCHIVE_<NAME>` (e.g. MAILARCHIVE_MAX_PARTS=500), which wins over the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailarchive.parse import Limits


class ConfigError(Exception):
    """A bad configuration; the message names the setting and what to write instead."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS = (
    Setting("archive", "archive", "The archive folder (SQLite database inside)."),
    Setting("max_depth", 50, "MIME nesting depth shown; deeper parts are not displayed."),
    Setting("max_parts", 1000, "MIME parts shown per message; the rest are not displayed."),
    Setting("max_header_bytes", 256 * 1024, "Header section size parsed; the rest is cut."),
    Setting("max_text_chars", 2 * 1024 * 1024, "Characters of one text part displayed."),
    Setting("time_budget", 2.0, "Seconds one message may take to parse; then headers only."),
)
_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Config:
    values: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def limits(self) -> Limits:
        from mailarchive.parse import Limits

        return Limits(max_depth=self["max_depth"], max_parts=self["max_parts"],
                      max_header_bytes=self["max_header_bytes"],
                      max_text_chars=self["max_text_chars"], time_budget=self["time_budget"])


def _coerce(setting: Setting, value: Any, where: str) -> Any:
    kind = type(setting.default)
    try:
        if kind is int and not isinstance(value, bool):
            number = int(value)
            if number <= 0:
                raise ValueError
            return number
        if kind is float:
            return float(value)
        if kind is str and isinstance(value, str):
            return value
    except (TypeError, ValueError):
        pass
    raise ConfigError(f"{where}: {setting.name} = {value!r} is not a valid "
                      f"{'positive whole number' if kind is int else kind.__name__} "
                      f"(default {setting.default!r}: {setting.help})")


def load(path: str | None = None, environ: dict[str, str] | None = None) -> Config:
    """Defaults, then the TOML file, then MAILARCHIVE_* environment variables."""
    env = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    path = path or env.get("MAILARCHIVE_CONFIG")
    if path:
        values.update(_read_file(Path(path)))
    for setting in SETTINGS:
        key = f"MAILARCHIVE_{setting.name.upper()}"
        if key in env:
            values[setting.name] = _coerce(setting, env[key], key)
    return Config(values)


def _read_file(path: Path) -> dict[str, Any]:
    import tomllib  # only when a file is given (start-up time)

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: no such configuration file") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read it ({error})") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from error
    found = {}
    for name, value in data.items():
        if name not in _BY_NAME:
            known = ", ".join(_BY_NAME)
            raise ConfigError(f"{path}: unknown setting {name!r} (known: {known})")
        found[name] = _coerce(_BY_NAME[name], value, str(path))
    return found
