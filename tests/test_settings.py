"""Settings that do something: the practice's time zone decides local days and "today"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from osteo_analytics import workspace
from osteo_analytics.errors import InputError
from osteo_analytics.settings import load_settings
from osteo_analytics.warehouse import open_warehouse
from tests.conftest import PASSPHRASE, osteo
from tests.test_metrics import hand_workspace

ENV = {"OSTEO_PASSPHRASE": PASSPHRASE}

# A hand-made LibreOsteo export (CSV, as djangorestframework-csv writes it: CRLF, the
# instant with the server's offset). The session starts at 21:30 in Paris, which is
# already 00:30 the next day on La Réunion (UTC+4).
PATIENTS_CSV = (
    "family_name,first_name,birth_date,sex,address_zipcode\r\nDurand,Camille,1980-05-04,F,97400\r\n"
)
EXAMINATIONS_CSV = (
    "patient_detail.first_name,patient_detail.family_name,patient_detail.birth_date,"
    "date,reason,therapeut_detail.first_name,therapeut_detail.last_name\r\n"
    "Camille,Durand,1980-05-04,2025-03-10T21:30:00+01:00,Lombalgie,Jeanne,Hoarau\r\n"
)


def _set(root: Path, line: str) -> None:
    with (root / "config.toml").open("a", encoding="utf-8") as config:
        config.write(line + "\n")


def _export(folder: Path) -> Path:
    folder.mkdir()
    (folder / "patients.csv").write_bytes(PATIENTS_CSV.encode())
    (folder / "examinations.csv").write_bytes(EXAMINATIONS_CSV.encode())
    return folder


def _one_line_error(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert stderr.startswith("Erreur : ")


@pytest.mark.parametrize(
    ("timezone", "day", "start"),
    [
        (None, dt.date(2025, 3, 10), dt.time(21, 30)),  # the default, Europe/Paris
        ("Indian/Reunion", dt.date(2025, 3, 11), dt.time(0, 30)),
        ("America/Martinique", dt.date(2025, 3, 10), dt.time(16, 30)),
    ],
)
def test_the_timezone_setting_decides_the_local_day_of_an_import(
    tmp_path: Path, timezone: str | None, day: dt.date, start: dt.time
) -> None:
    root = tmp_path / "ws"
    unlocked = workspace.init_workspace(root, PASSPHRASE, work_factor=10).unlocked
    if timezone is not None:
        _set(root, f'timezone = "{timezone}"')
    result = osteo("import", str(_export(tmp_path / "export")), workspace=root, env=ENV)
    assert result.returncode == 0, result.stderr
    with open_warehouse(unlocked) as wh:
        rows = wh.query("SELECT consulted_on, start_time FROM consultations")
    assert list(zip(rows["consulted_on"], rows["start_time"], strict=True)) == [(day, start)]


@pytest.mark.parametrize(
    "name", ["Europe/Pari", "europe/paris", "Europe", "../../etc/passwd", "", "UTC+1"]
)
def test_an_unknown_timezone_is_refused_when_the_settings_are_read(
    tmp_path: Path, name: str
) -> None:
    _set(tmp_path, f'timezone = "{name}"')
    with pytest.raises(InputError, match="fuseau horaire") as caught:
        load_settings(tmp_path)
    assert len(str(caught.value).splitlines()) == 1


def test_an_unknown_timezone_stops_import_and_metrics_in_one_line(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    hand_workspace(root)
    _set(root, 'timezone = "Europe/Pari"')
    for args in (("import", str(_export(tmp_path / "export"))), ("metrics",)):
        result = osteo(*args, workspace=root, env=ENV)
        assert result.returncode == 2, result.stderr
        _one_line_error(result.stderr)
        assert "timezone" in result.stderr


def test_today_is_the_local_day_of_the_practice(tmp_path: Path) -> None:
    """Kiritimati (UTC+14) and Baker Island (UTC-12) never share a calendar day."""
    root = tmp_path / "ws"
    unlocked = hand_workspace(root)
    todays = {}
    for name in ("Pacific/Kiritimati", "Etc/GMT+12"):
        (root / "config.toml").write_text(f'timezone = "{name}"\n', encoding="utf-8")
        zone = ZoneInfo(name)
        before = dt.datetime.now(zone).date()
        with open_warehouse(unlocked) as wh:
            todays[name] = wh.today
            as_of = wh.defaults()["as_of"]
        assert todays[name] in (before, dt.datetime.now(zone).date())
        assert as_of == todays[name]
    assert todays["Pacific/Kiritimati"] > todays["Etc/GMT+12"]
