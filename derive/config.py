"""Sheet metadata (title, author, course, date) from options and TOML files.

Precedence: command-line options, then ``--config FILE`` (or, when none is given, a
``derive.toml`` in the working folder, else the ``[tool.derive]`` table of its
``pyproject.toml``), then neutral defaults. A file may put the keys at its top level
or under ``[tool.derive]``. There is no date unless one is given: the same inputs
always give the same bytes.
"""

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path


class ConfigError(ValueError):
    """A configuration file or value is unusable; the message says how to fix it."""


@dataclass(frozen=True)
class SheetInfo:
    """What the title block of a sheet shows; an empty title becomes "Gradients of"
    and the model's heading ("Gradients of logistic regression")."""

    title: str = ""
    author: str = ""
    course: str = ""
    date: str = ""


KEYS = tuple(field.name for field in fields(SheetInfo))


def load_info(config=None, overrides=None, folder=Path(".")):
    """SheetInfo from ``config`` (or the default files in ``folder``) and ``overrides``."""
    values = _from_file(Path(config)) if config else _from_default_files(Path(folder))
    values.update({key: value for key, value in (overrides or {}).items() if value is not None})
    return replace(SheetInfo(), **values)


def _from_default_files(folder):
    dedicated, project = folder / "derive.toml", folder / "pyproject.toml"
    if dedicated.is_file():
        return _from_file(dedicated)
    if project.is_file():
        return _table(_read(project).get("tool", {}).get("derive", {}), project)
    return {}


def _from_file(path):
    document = _read(path)
    table = document.get("tool", {}).get("derive", document)
    return _table(table, path)


def _read(path):
    try:
        with open(path, "rb") as stream:
            return tomllib.load(stream)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None


def _table(table, path):
    unknown = sorted(set(table) - set(KEYS) - {"tool", "let"})  # let: derive check's
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(unknown)}; the sheet accepts {', '.join(KEYS)}"
        )
    values = {key: table[key] for key in KEYS if key in table}
    for key, value in values.items():
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {key} must be a string, got {value!r}")
    return values


def load_lets(folder=Path(".")):
    """The ``let`` table of ``[tool.derive]`` (``derive.toml`` or ``pyproject.toml`` in
    ``folder``) as ["WRITTEN=MEANS", …] for ``derive check``: a table {written: means}
    or a list of "WRITTEN=MEANS" strings. The sheet's keys are not read here."""
    folder = Path(folder)
    for path in (folder / "derive.toml", folder / "pyproject.toml"):
        if path.is_file():
            document = _read(path)
            table = document.get("tool", {}).get("derive", document if path.name ==
                                                  "derive.toml" else {})
            lets = table.get("let", {}) if isinstance(table, dict) else {}
            if isinstance(lets, dict) and all(isinstance(v, str) for v in lets.values()):
                return [f"{written}={means}" for written, means in lets.items()]
            if isinstance(lets, list) and all(isinstance(v, str) for v in lets):
                return list(lets)
            raise ConfigError(f"{path}: let must be a table of strings, e.g. "
                              "let = { J = \"L\" }")
    return []
