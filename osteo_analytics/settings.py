"""Practice settings: one table of (name, default, help), read from the workspace's config.toml.

config.toml holds settings only, never secrets. Unknown names and wrong types are refused
with a one-line error so that a typo does not silently fall back to a default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import platformdirs

from osteo_analytics.errors import InputError

ENV_WORKSPACE = "OSTEO_WORKSPACE"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    # The types config.toml may give (default: the default's type).
    types: tuple[type, ...] = ()


# Every setting here is read somewhere in the package (tests/test_docs.py checks it); one
# that nothing reads yet stays out until the code that uses it arrives.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "timezone",
        "Europe/Paris",
        "IANA time zone of the practice: exported instants become local days and times in it.",
    ),
    Setting(
        "memory_limit",
        "4GB",
        "DuckDB memory limit of the in-memory warehouse (no spilling to disk).",
    ),
    Setting(
        "retention_years",
        20,
        "Years a record is kept after the last visit (French health records: 20).",
    ),
    Setting(
        "retention_minor_age",
        28,
        "For patients seen as minors, records are kept at least until this age.",
    ),
    Setting(
        "micro_bnc_threshold",
        {"2023": "77700", "2024": "77700", "2025": "77700", "2026": "83600"},
        "Micro-BNC revenue threshold per year, in euros (strings, exact decimals).",
    ),
    Setting(
        "siren",
        "",
        "SIREN of the practice (9 digits), or a table practitioner_id -> SIREN for a shared"
        " cabinet: names the FEC file. Not a secret; `osteo export fec --siren` overrides it.",
        (str, dict),
    ),
    Setting(
        "backup_keep",
        {"daily": 7, "weekly": 5, "monthly": 12, "yearly": 20},
        "Backups kept after each run (restic forget --keep-daily/weekly/monthly/yearly).",
    ),
    Setting(
        "backup_max_age_days",
        7,
        "A destination whose last successful backup is older than this many days is flagged.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def default_workspace() -> Path:
    """The workspace used when neither --workspace nor OSTEO_WORKSPACE is given."""
    return Path(platformdirs.user_data_dir("osteo-analytics", appauthor=False)) / "workspace"


def resolve_workspace(option: str | Path | None = None) -> Path:
    """--workspace wins, then OSTEO_WORKSPACE, then the per-user default."""
    if option:
        return Path(option).expanduser()
    env = os.environ.get(ENV_WORKSPACE)
    if env:
        return Path(env).expanduser()
    return default_workspace()


def load_settings(workspace: Path) -> dict[str, Any]:
    """Defaults overlaid with the workspace's config.toml (if any), checked by name and type."""
    values = {s.name: s.default for s in SETTINGS}
    path = workspace / "config.toml"
    if not path.exists():
        return values
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"config.toml illisible ({exc.__class__.__name__}) : corrigez le fichier {path}"
        ) from None
    for name, value in data.items():
        setting = _BY_NAME.get(name)
        if setting is None:
            raise InputError(
                f"config.toml : réglage inconnu « {name} » (réglages : {', '.join(_BY_NAME)})"
            )
        types = setting.types or (type(setting.default),)
        if not isinstance(value, types):
            raise InputError(
                f"config.toml : « {name} » doit être de type"
                f" {' ou '.join(t.__name__ for t in types)}"
            )
        values[name] = value
    _check_timezone(values["timezone"])
    return values


def _check_timezone(name: str) -> None:
    """InputError unless `name` is a time zone of the IANA database (Europe/Paris...)."""
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # malformed key, unknown zone, a folder of zones
        raise InputError(
            "config.toml : « timezone » n'est pas un fuseau horaire connu ;"
            " indiquez un nom IANA comme « Europe/Paris » ou « America/Martinique »"
        ) from None
