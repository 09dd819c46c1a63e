"""The quality app's data: the per-file import reports `osteo import` writes, read back.

A sheet named after a patient (a file name is personal data) goes through the real
`osteo import` twice; its report must come back exact, add up, and leave the patient's
name nowhere readable in the workspace (the audit log records totals only). Workspaces
from before the reports show the audit log's totals; a damaged report is one clear
error; key rotation re-encrypts the reports with everything else.
"""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from osteo_analytics import import_reports, workspace
from osteo_analytics.backup import DestinationStatus
from osteo_analytics.dashboards import Filters, Html, quality
from osteo_analytics.errors import IntegrityError
from osteo_analytics.import_reports import FileCounts, ImportSummary, read_imports
from osteo_analytics.warehouse import open_warehouse
from tests.conftest import FAST, PASSPHRASE, copy_workspace, osteo_ok, visit_mapping

# Built at run time, so that this file does not hold the name the scan looks for.
PATIENT = "Kervoëllec-" + "ennovyraM"[::-1]
LABEL = f"{PATIENT}.csv"
HEADER = "Date;Heure;Nom;Prénom;Né(e) le;N° facture;Montant;Règlement"
ROWS = [
    "15/03/2025;10:00;KERVOËLLEC;Maryvonne;03/04/1981;F-1;55,00;CB",
    "22/03/2025;11:00;KERVOËLLEC;Maryvonne;03/04/1981;F-2;55,00;chèque",
    "22/03/2025;11:00;KERVOËLLEC;Maryvonne;03/04/1981;F-2;55,00;chèque",  # duplicate
    "32/13/2025;11:00;KERVOËLLEC;Maryvonne;03/04/1981;F-3;55,00;chèque",  # bad date
    ";;;;;;;",  # blank: excluded
    "29/03/2025;09:00;LE GOFF;Yann;12/12/1990;F-4;60,00;espèces",
]
FIRST = FileCounts(
    label=LABEL,
    adapter="generic",
    kind="visits",
    format="csv",
    rows_read=6,
    accepted=3,
    quarantined=1,
    duplicates=1,
    excluded=1,
    reasons={"bad_date": 1, "blank_row": 1, "duplicate": 1},
)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A workspace where `osteo import` read the sheet twice (the second time: nothing new)."""
    folder = tmp_path_factory.mktemp("imports")
    sheet = folder / LABEL
    sheet.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    mapping = folder / "mapping.yaml"
    mapping.write_text(visit_mapping(), encoding="utf-8")
    ws = folder / "ws"
    env = {"OSTEO_PASSPHRASE": PASSPHRASE}
    osteo_ok("init", workspace=ws, env=env)
    for _ in range(2):
        osteo_ok("import", str(sheet), "--mapping", str(mapping), workspace=ws, env=env)
    yield ws


def test_each_import_has_its_files_report_oldest_first(imported: Path) -> None:
    first, second = read_imports(workspace.Workspace(imported).unlock(PASSPHRASE))
    assert first.files == (FIRST,)
    (again,) = second.files or ()
    assert (again.accepted, again.duplicates, again.quarantined, again.excluded) == (0, 4, 1, 1)
    assert again.reasons == {"already_imported": 3, "bad_date": 1, "blank_row": 1, "duplicate": 1}
    assert first.time <= second.time and first.snapshot == second.snapshot  # nothing new
    for item in (first, second):
        assert all(f.balanced for f in item.files or ())
        # The audit log's totals are the files' sums: the report and the log agree.
        assert item.totals == import_reports.totals(item.files or ())


def test_no_file_label_is_readable_anywhere_in_the_workspace(imported: Path) -> None:
    reports = sorted((imported / "imports").iterdir())
    assert len(reports) == 2
    assert all(p.read_bytes().startswith(b"age-encryption.org/v1\n") for p in reports)
    forms = {unicodedata.normalize(f, PATIENT) for f in ("NFC", "NFD")}
    needles = {s.encode(e) for s in forms for e in ("utf-8", "utf-16-le")} | {b"Maryvonne"}
    for path in imported.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(n in data for n in needles), path.relative_to(imported)


def test_imports_from_before_the_reports_show_the_audit_totals(
    imported: Path, tmp_path: Path
) -> None:
    unlocked = copy_workspace(imported, tmp_path / "ws")
    shutil.rmtree(tmp_path / "ws" / "imports")
    old = read_imports(unlocked)
    assert [i.files for i in old] == [None, None]
    assert old[0].totals == {"files": 1, **{k: getattr(FIRST, k) for k in import_reports.COUNTS}}
    with open_warehouse(unlocked) as wh:
        page = quality.build(wh, Filters(wh.span[0], wh.span[1]), unlocked)  # type: ignore[index]
    table, notice = page.section("Imports").items
    cells = table.data[0].cells.values
    assert list(cells[1]) == ["(détail par fichier indisponible)"] * 2
    assert list(cells[3]) == ["6", "6"] and list(cells[4]) == ["3", "0"]
    assert isinstance(notice, Html)
    assert "2 import(s)" in notice.text and "pas disponible" in notice.text


def test_the_quality_page_lists_each_file_with_its_reasons(imported: Path) -> None:
    unlocked = workspace.Workspace(imported).unlock(PASSPHRASE)
    with open_warehouse(unlocked) as wh:
        page = quality.build(wh, Filters(wh.span[0], wh.span[1]), unlocked)  # type: ignore[index]
    (table,) = page.section("Imports").items  # every import has its report: no notice
    header, cells = table.data[0].header.values, table.data[0].cells.values
    assert list(header) == list(quality.TABLE_HEADERS)
    assert list(cells[1]) == [LABEL, LABEL]
    assert list(cells[2]) == ["generic (csv)"] * 2
    assert [list(c) for c in cells[3:8]] == [
        ["6", "6"],
        ["3", "0"],
        ["1", "1"],
        ["1", "4"],
        ["1", "1"],
    ]
    assert cells[8][0] == "date illisible : 1 ; ligne vide : 1 ; doublon dans l'import : 1"
    assert "déjà importé : 3" in cells[8][1]
    assert 'Lignes lues</p><p class="osteo-tile__value">12<' in page.tiles_html


def test_a_damaged_report_is_one_clear_error(imported: Path, tmp_path: Path) -> None:
    unlocked = copy_workspace(imported, tmp_path / "ws")
    report = sorted((tmp_path / "ws" / "imports").iterdir())[0]
    data = bytearray(report.read_bytes())
    data[-5] ^= 0x01
    report.write_bytes(bytes(data))
    with pytest.raises(IntegrityError) as caught:
        read_imports(unlocked)
    message = str(caught.value)
    assert message.startswith(f"imports/{report.name} : ") and "\n" not in message
    assert PATIENT not in message


def test_key_rotation_re_encrypts_the_reports(imported: Path, tmp_path: Path) -> None:
    old = copy_workspace(imported, tmp_path / "ws")
    new, _ = workspace.rotate(old.workspace, PASSPHRASE, work_factor=FAST)
    workspace.forget_unlocked()
    only_new = workspace.Unlocked(new.workspace, new.secrets)
    assert only_new.secrets.retired_identities == ()
    assert read_imports(only_new)[0].files == (FIRST,)


def test_file_labels_are_shown_as_written_never_as_markup() -> None:
    odd = FileCounts("<a href='x'>R&D</a>.csv", "generic", "visits", "csv", 1, 1, 0, 0, 0)
    summary = ImportSummary(datetime(2026, 1, 2, 9, 30, tzinfo=UTC), None, {}, (odd,))
    (row,) = quality.import_rows([summary], ZoneInfo("Europe/Paris"))
    assert row[:2] == ["02/01/2026 10:30", "&lt;a href='x'&gt;R&amp;D&lt;/a&gt;.csv"]


def test_backups_panel() -> None:
    empty = quality.backup_panel([])
    assert "Aucune sauvegarde configurée." in empty and empty.count("<p>") == 2
    assert "osteo backup add" in empty
    done = DestinationStatus("<disque>", "/media", None, None, None, ("jamais sauvegardée",))
    text = quality.backup_panel([done])
    assert "&lt;disque&gt;" in text and "<disque>" not in text
    assert "jamais" in text and "à vérifier" in text and "Aucune sauvegarde" not in text
    assert "à vérifier : jamais sauvegardée" in text
