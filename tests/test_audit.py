"""The hash-chained audit log (osteo_analytics.audit)."""

from __future__ import annotations

import hashlib
import hmac
import json
import stat
import tempfile
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from osteo_analytics.audit import GENESIS, AuditLog, Checkpoint, audit_key
from osteo_analytics.errors import AuditError
from osteo_analytics.pseudonymize.primitives import derive_key

MASTER = bytes(range(32))
KEY = audit_key(MASTER)
T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def _fill(log: AuditLog, n: int) -> list[dict[str, Any]]:
    return [
        log.append(
            "import",
            actor="cli",
            snapshot=f"20250303T08{i:02d}00Z",
            counts={"read": 10 + i, "accepted": 9 + i},
            now=T0 + timedelta(minutes=i),
        )
        for i in range(n)
    ]


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.log", KEY)


def _lines(log: AuditLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def _write(log: AuditLog, lines: list[bytes]) -> None:
    log.path.write_bytes(b"".join(lines))


# --- keys and format -------------------------------------------------------------------


def test_audit_key_is_its_own_domain() -> None:
    assert KEY.hex() == "3c9fca6c4f3c7bc9207091ce7dba22cac5522c58d60b0c09a0f35945ecb9d768"
    assert derive_key(MASTER, "practice") != KEY
    with pytest.raises(ValueError):
        audit_key(b"short")
    with pytest.raises(ValueError):
        AuditLog(Path("audit.log"), b"short")


def test_known_answer_line(log: AuditLog) -> None:
    # Pins the line format and MAC scheme: old logs must keep verifying.
    log.append("init", actor="cli", now=T0)
    mac = "7a49de777b4d5e84d44a27cf5535e8468f581fee849305b2b1e0ac17aa36a7e7"
    body = (
        '{"action":"init","actor":"cli","counts":{},"prev":"' + GENESIS + '",'
        '"snapshot":null,"time":"2025-03-03T08:00:00Z"}'
    )
    assert hmac.new(KEY, body.encode(), hashlib.sha256).hexdigest() == mac
    assert _lines(log) == [body.replace(',"prev"', f',"mac":"{mac}","prev"').encode() + b"\n"]


def test_append_and_verify(log: AuditLog) -> None:
    written = _fill(log, 5)
    result = log.verify()
    assert result.ok and result.count == 5 and result.line is None
    assert result.message() == "journal d'audit intact : 5 entrées"
    assert result.checkpoint == Checkpoint(5, written[-1]["mac"])
    assert log.verify_or_raise() == 5
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    parsed = [json.loads(line) for line in _lines(log)]
    assert parsed == written
    assert parsed[0]["prev"] == GENESIS
    assert [p["prev"] for p in parsed[1:]] == [p["mac"] for p in parsed[:-1]]
    assert parsed[2]["time"] == "2025-03-03T08:02:00Z"


def test_time_is_stored_in_utc_and_counts_default_empty(log: AuditLog) -> None:
    paris = timezone(timedelta(hours=1))
    entry = log.append("backup.run", actor="cli", now=datetime(2025, 1, 1, 0, 30, tzinfo=paris))
    assert entry["time"] == "2024-12-31T23:30:00Z"
    assert entry["counts"] == {} and entry["snapshot"] is None
    assert log.append("audit.verify", actor="cli")["time"].endswith("Z")
    assert log.verify().ok


def test_missing_or_empty_file_is_an_empty_log(log: AuditLog) -> None:
    assert log.verify().ok and log.verify().count == 0
    log.path.write_bytes(b"")
    assert log.verify().ok and log.verify().count == 0
    # ... unless a checkpoint says there were lines.
    result = log.verify(Checkpoint(3, "a" * 64))
    assert (result.ok, result.line, result.kind) == (False, 1, "deleted")


def test_concurrent_appends_keep_one_chain(log: AuditLog) -> None:
    def work() -> None:
        for _ in range(20):
            log.append("import", actor="cli")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.verify_or_raise() == 80


# --- refused values --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"actor": "Marie Dupont"},
        {"actor": "marie@example.fr"},
        {"actor": "gaëlle"},
        {"actor": ""},
        {"actor": "a" * 81},
        {"action": "Import patients Dupont"},
        {"action": "import\n"},
        {"snapshot": "Dupont Marie"},
        {"snapshot": ""},
        {"counts": {"read": 1.0}},
        {"counts": {"read": True}},
        {"counts": {"read": -1}},
        {"counts": {"read": "12"}},
        {"counts": {"Dupont Marie": 1}},
        {"counts": {f"c{i}": i for i in range(65)}},
        {"counts": [("read", 1)]},
        {"now": datetime(2025, 3, 3, 8, 0)},
    ],
)
def test_refuses_anything_but_identifiers_and_ints(log: AuditLog, kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {"action": "import", "actor": "cli"} | kwargs
    with pytest.raises(AuditError) as err:
        log.append(args.pop("action"), **args)
    assert "Dupont" not in str(err.value) and "Marie" not in str(err.value)
    assert not log.path.exists()


# --- tampering -------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("field", ["actor", "counts", "time", "snapshot", "prev", "mac"])
def test_edited_field_is_found_at_its_line(log: AuditLog, k: int, field: str) -> None:
    _fill(log, 5)
    lines = _lines(log)
    record = json.loads(lines[k - 1])
    record[field] = {"counts": {"read": 1}, "actor": "x"}.get(field, "1" * 64)
    lines[k - 1] = json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    _write(log, lines)
    result = log.verify()
    assert (result.ok, result.line, result.kind, result.count) == (False, k, "edited", k - 1)
    with pytest.raises(AuditError, match=f"ligne {k} :"):
        log.verify_or_raise()


def test_reformatted_line_is_edited(log: AuditLog) -> None:
    _fill(log, 3)
    lines = _lines(log)
    lines[1] = json.dumps(json.loads(lines[1]), indent=1).replace("\n", "").encode() + b"\n"
    _write(log, lines)
    assert (log.verify().line, log.verify().kind) == (2, "edited")


@pytest.mark.parametrize("k", [1, 2, 4])
def test_deleted_line(log: AuditLog, k: int) -> None:
    _fill(log, 5)
    lines = _lines(log)
    del lines[k - 1]
    _write(log, lines)
    assert (log.verify().line, log.verify().kind) == (k, "deleted")


def test_deleted_last_lines_need_a_checkpoint(log: AuditLog) -> None:
    checkpoint = Checkpoint(5, _fill(log, 5)[-1]["mac"])
    _write(log, _lines(log)[:3])
    assert log.verify().ok and log.verify().count == 3  # the chain alone cannot tell
    result = log.verify(checkpoint)
    assert (result.ok, result.line, result.kind) == (False, 4, "deleted")
    assert log.verify(log.verify().checkpoint).ok


def test_rewritten_log_against_checkpoint(log: AuditLog) -> None:
    _fill(log, 3)
    checkpoint = log.verify().checkpoint
    log.path.unlink()
    log.append("init", actor="cli", now=T0)
    _fill(log, 3)
    result = log.verify(checkpoint)
    assert (result.ok, result.line, result.kind) == (False, 3, "rewritten")


@pytest.mark.parametrize(("i", "j"), [(1, 2), (2, 4), (1, 5)])
def test_swapped_lines(log: AuditLog, i: int, j: int) -> None:
    _fill(log, 5)
    lines = _lines(log)
    lines[i - 1], lines[j - 1] = lines[j - 1], lines[i - 1]
    _write(log, lines)
    assert (log.verify().line, log.verify().kind) == (i, "reordered")


@pytest.mark.parametrize("k", [1, 3, 6])
def test_inserted_forged_line(log: AuditLog, k: int) -> None:
    _fill(log, 5)
    lines = _lines(log)
    forger = AuditLog(log.path.with_name("forged.log"), audit_key(bytes(32)))
    forged = forger.append("keys.rotate", actor="cli", now=T0)
    forged["prev"] = json.loads(lines[k - 2])["mac"] if k > 1 else GENESIS
    lines.insert(k - 1, json.dumps(forged, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    _write(log, lines)
    # At the end nothing follows the forged line to show it was pushed in: "edited".
    assert (log.verify().line, log.verify().kind) == (k, "inserted" if k < 6 else "edited")


def test_inserted_copy_of_a_genuine_line(log: AuditLog) -> None:
    _fill(log, 4)
    lines = _lines(log)
    lines.insert(3, lines[1])
    _write(log, lines)
    assert (log.verify().line, log.verify().kind) == (4, "inserted")


def test_truncated_last_line_and_append_refused(log: AuditLog) -> None:
    _fill(log, 3)
    data = log.path.read_bytes()
    for cut in (1, 20):
        log.path.write_bytes(data[:-cut])
        assert (log.verify().line, log.verify().kind) == (3, "truncated")
        with pytest.raises(AuditError, match="ligne incomplète"):
            log.append("import", actor="cli")


def test_wrong_key_fails_at_line_one(log: AuditLog) -> None:
    _fill(log, 3)
    result = AuditLog(log.path, audit_key(bytes(32))).verify()
    assert (result.ok, result.line, result.count) == (False, 1, 0)
    assert "\n" not in result.message() and "clé" in result.message()


# --- property: any single mutation is reported at the first line it touches -----------

_mutation = st.one_of(
    st.tuples(st.just("edit"), st.integers(0, 99), st.sampled_from(["actor", "mac", "byte"])),
    st.tuples(st.just("delete"), st.integers(0, 99)),
    st.tuples(st.just("swap"), st.integers(0, 99), st.integers(1, 99)),
    st.tuples(st.just("forge"), st.integers(0, 99)),
    st.tuples(st.just("copy"), st.integers(0, 99), st.integers(0, 99)),
    st.tuples(st.just("truncate"), st.integers(1, 10_000)),
)


def _mutate(lines: list[bytes], mutation: tuple[Any, ...], byte: int) -> list[bytes]:
    out, n = list(lines), len(lines)
    kind, a = mutation[0], mutation[1] % n
    if kind == "edit":
        record = json.loads(out[a])
        how = mutation[2]
        if how == "byte":
            line = bytearray(out[a])
            pos = byte % (len(line) - 1)
            line[pos] = ord("Z") if line[pos] != ord("Z") else ord("Y")
            out[a] = bytes(line)
        else:
            record[how] = "z" + record[how][1:]
            out[a] = json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    elif kind == "delete":
        del out[a]
    elif kind == "swap":
        b = (a + mutation[2]) % n
        out[a], out[b] = out[b], out[a]
    elif kind == "forge":
        fake = json.loads(lines[0]) | {"mac": "f" * 64}
        out.insert(mutation[1] % (n + 1), json.dumps(fake, sort_keys=True).encode() + b"\n")
    elif kind == "copy":
        out.insert(mutation[2] % (n + 1), lines[a])
    else:
        out[-1] = out[-1][: -min(mutation[1], len(out[-1]))]
    return [line for line in out if line]


@settings(deadline=None, max_examples=200)
@given(
    entries=st.lists(
        st.tuples(
            st.sampled_from(["import", "share.create", "backup.run"]),
            st.dictionaries(
                st.sampled_from(["read", "accepted", "quarantined"]), st.integers(0, 10**6)
            ),
        ),
        min_size=1,
        max_size=6,
    ),
    mutation=_mutation,
    byte=st.integers(0, 10_000),
)
def test_first_affected_line_is_reported(
    entries: list[tuple[str, dict[str, int]]], mutation: tuple[Any, ...], byte: int
) -> None:
    # Durability is not under test here; fsync would make each example take ~10 ms.
    with tempfile.TemporaryDirectory() as tmp, mock.patch("os.fsync"):
        log = AuditLog(Path(tmp) / "audit.log", KEY)
        for i, (action, counts) in enumerate(entries):
            log.append(action, actor="cli", counts=counts, now=T0 + timedelta(seconds=i))
        original = _lines(log)
        mutated = _mutate(original, mutation, byte)
        _write(log, mutated)
        result = log.verify()
    event(f"{mutation[0]} -> {result.kind or 'ok'}")
    # Expected: the first position where the file differs from the original. A file that
    # is a prefix of the original (last lines deleted) is intact as far as the chain can
    # tell.
    same = 0
    while same < min(len(original), len(mutated)) and original[same] == mutated[same]:
        same += 1
    if same == len(mutated) and len(mutated) <= len(original):
        assert result.ok and result.count == len(mutated)
    else:
        assert (result.ok, result.line, result.count) == (False, same + 1, same)
