"""The configuration file: ``specdiff.toml`` or ``[tool.specdiff]`` in ``pyproject.toml``.

Every key is the long name of an option of ``check`` or ``lint`` (dashes or underscores), so
options added later are covered without code here: the file becomes click's ``default_map``,
and click gives the precedence command line > environment variable > file > built-in default.

Credentials never sit in the file: ``token-env = "MY_TOKEN"`` names the environment variable
that holds them (likewise ``header-env``, ``token-b-env``...); a literal ``token`` is an error.
``suppress = [{rule, reason, method?, path?, key?}]`` accepts findings (see :mod:`specdiff.suppress`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from specdiff.errors import ConfigError
from specdiff.suppress import Suppress, parse_suppress

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["SECRET_KEYS", "Command", "FileConfig", "Parameter", "find_config", "load_config"]


class Parameter(Protocol):
    """What this module reads of a command's parameter (a click ``Parameter``, as typer builds
    it: typer 0.29 vendors its own click, so the real ``click`` may not even be installed)."""

    @property
    def name(self) -> str | None: ...
    @property
    def opts(self) -> list[str]: ...
    @property
    def multiple(self) -> bool: ...
    @property
    def expose_value(self) -> bool: ...


class Command(Protocol):
    """What this module reads of a command: its parameters."""

    @property
    def params(self) -> Sequence[Parameter]: ...


SECRET_KEYS = frozenset(
    {
        "token",
        "token_b",
        "token_low",
        "header",
        "header_b",
        "header_low",
        "jwt_secret",
        "expired_token",
        "query",
    }
)
"""Options that carry a credential: only ``<key>-env`` (a variable's name) is allowed."""


@dataclass(frozen=True, slots=True)
class FileConfig:
    """A loaded file: per-command defaults (click ``default_map``) and config suppressions."""

    source: str
    default_map: dict[str, dict[str, Any]]
    suppress: tuple[Suppress, ...] = ()


def find_config(folder: Path) -> Path | None:
    """``specdiff.toml`` in ``folder``, else its ``pyproject.toml`` if it has ``[tool.specdiff]``."""
    own = folder / "specdiff.toml"
    if own.is_file():
        return own
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file() and "specdiff" in _read(pyproject).get("tool", {}):
        return pyproject
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            doc: dict[str, Any] = tomllib.load(handle)
            return doc
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def load_config(
    path: Path, commands: Mapping[str, Command], env: Mapping[str, str] = os.environ
) -> FileConfig:
    """Read ``path`` into defaults for ``commands``; ConfigError (one line) for a bad key/value."""
    doc = _read(path)
    table: object = (
        doc.get("tool", {}).get("specdiff", {}) if path.name == "pyproject.toml" else doc
    )
    where = str(path)
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [tool.specdiff] must be a table")
    suppress = parse_suppress(table.get("suppress", []), where)
    params = {name: _params(cmd) for name, cmd in commands.items()}
    default_map: dict[str, dict[str, Any]] = {name: {} for name in commands}
    for key, value in table.items():
        if key == "suppress":
            continue
        name = key.replace("-", "_")
        base = name.removesuffix("_env")
        by_env = base != name and _resolve(params, base)[0] in SECRET_KEYS
        target, found = _resolve(params, base if by_env else name)
        if not found:
            raise ConfigError(f"{where}: unknown key {key!r}")
        if target in SECRET_KEYS and not by_env:
            raise ConfigError(
                f"{where}: {key!r} would put a credential in the file; name the environment "
                f'variable that holds it instead: {key}-env = "MY_VARIABLE"'
            )
        if by_env:
            value = _from_env(where, key, value, env)
        for command, param in found.items():
            default_map[command][target] = _shape(param, value)
    return FileConfig(where, default_map, suppress)


def _resolve(
    params: Mapping[str, Mapping[str, Parameter]], name: str
) -> tuple[str, dict[str, Parameter]]:
    """The parameter ``name`` designates (its own name) and, per command, the parameter."""
    found = {cmd: by_name[name] for cmd, by_name in params.items() if name in by_name}
    target = next((p.name for p in found.values() if p.name), name)
    return target, found


def _params(command: Command) -> dict[str, Parameter]:
    """A command's parameters by every name a file may use: ``fmt`` as ``format`` too."""
    out: dict[str, Parameter] = {}
    for param in command.params:
        if param.name is None or param.expose_value is False or getattr(param, "is_eager", False):
            continue
        out[param.name] = param
        for opt in param.opts:
            if opt.startswith("--"):
                out[opt[2:].replace("-", "_")] = param
    return out


def _from_env(where: str, key: str, name: object, env: Mapping[str, str]) -> str:
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f'{where}: {key} must name an environment variable, e.g. {key} = "MY_TOKEN"'
        )
    value = env.get(name)
    if value is None:
        raise ConfigError(f"{where}: {key}: the environment variable {name} is not set")
    if not value.strip():
        raise ConfigError(
            f"{where}: {key}: the environment variable {name} is set but empty (a CI secret "
            "this job cannot see?)"
        )
    return value


def _shape(param: Parameter, value: Any) -> Any:
    """A scalar for a repeatable option becomes a one-item list; header-env lines, several."""
    if not param.multiple:
        return value
    if isinstance(value, str):
        return [line for line in value.splitlines() if line.strip()]
    if isinstance(value, Iterable):
        return list(value)
    return [value]
