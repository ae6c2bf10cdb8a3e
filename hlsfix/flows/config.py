"""Reproducible builds: every option from a TOML file, and the resolved options written beside each output.

The file has one table per stage; every key is a command-line option's name (``budget_pp`` for
``--budget-pp``). ``hlsfix build --config OUT/hlsfix.toml`` rebuilds OUT exactly: the written file
holds every option resolved (paths absolute) and the fingerprint of the fixed-point program, which
the rebuild checks.

    [model]
    model = "protonn"          # a zoo name or a path
    weights = "w.npz"          # optional; paths relative to this file
    data = "d.npz"
    [compile]
    bits = "mixed"
    budget_pp = 1.0
    [build]
    board = "arty-a7"
    lanes = "auto"
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint.fingerprint import fingerprint  # noqa: F401  (re-exported for the flows)
from hlsfix.flows.options import BuildOptions, CompileOptions, ModelSpec, SimOptions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_NAME = "hlsfix.toml"
PATH_KEYS = ("model", "weights", "data", "vcd")
TABLES: dict[str, type] = {
    "model": ModelSpec,
    "compile": CompileOptions,
    "build": BuildOptions,
    "sim": SimOptions,
}


class ConfigError(HlsfixError):
    """A configuration file that cannot be read, or that names unknown options."""


def load_config(path: Path | str) -> dict[str, dict[str, Any]]:
    """The tables of a config file, checked against the options each stage knows."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file must exist, not be missing: {path}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: config file must be TOML, not: {e}") from None
    except OSError as e:
        raise ConfigError(f"config file must be readable, not {e.strerror.lower()}: {path}") from None
    tables: dict[str, dict[str, Any]] = {}
    for table, values in doc.items():
        if table == "provenance":
            tables[table] = values if isinstance(values, dict) else {}
            continue
        if table not in TABLES or not isinstance(values, dict):
            raise ConfigError(f"{path}: table must be one of [{'], ['.join(TABLES)}], not [{table}]")
        known = {f.name for f in fields(TABLES[table])}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(
                    f"{path}: [{table}] key must be one of {', '.join(sorted(known))}, not {key!r}"
                )
            if key in PATH_KEYS and isinstance(value, str) and (key != "model" or _looks_like_path(value)):
                value = str((path.parent / value).resolve()) if not Path(value).is_absolute() else value
            tables.setdefault(table, {})[key] = value
    return tables


def _looks_like_path(model: str) -> bool:
    return "/" in model or "\\" in model or "." in Path(model).name


def write_config(directory: Path, stages: dict[str, object], provenance: dict[str, str]) -> Path:
    """Write ``hlsfix.toml``: each stage's options as resolved (None left out) and the provenance."""
    import tomli_w

    doc: dict[str, dict[str, object]] = {}
    for table, options in stages.items():
        values = {f.name: getattr(options, f.name) for f in fields(options)}  # type: ignore[arg-type]
        doc[table] = {k: str(v) if isinstance(v, Path) else v for k, v in values.items() if v is not None}
    doc["provenance"] = dict(provenance)
    header = "# Written by hlsfix: `hlsfix <command> --config THIS_FILE` redoes this output exactly.\n\n"
    path = directory / CONFIG_NAME
    path.write_text(header + tomli_w.dumps(doc))
    return path
