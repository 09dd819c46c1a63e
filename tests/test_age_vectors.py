"""Our decrypt path against every C2SP CCTV age vector (tests/data/age-cctv).

Success vectors must yield exactly the payload whose SHA-256 the vector gives. Every other
vector must raise DecryptionError or IntegrityError and release nothing (the C2SP suite
tolerates a streaming decryptor releasing a verified prefix; our API is all or nothing).
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from osteo_analytics import vault
from osteo_analytics.errors import DecryptionError, IntegrityError
from tests.conftest import AGE_VECTORS

VECTORS = AGE_VECTORS

# What pyrage 1.4 cannot express: post-quantum (mlkem768x25519) identities. Every other
# vector runs, armored ones included (pyrage de-armors).
_HYBRID = "ML-KEM hybrid identity (AGE-SECRET-KEY-PQ-1): pyrage 1.4 has no post-quantum keys"
SKIPS: dict[str, str] = {
    name: _HYBRID
    for name in (
        "armor_hybrid",
        "hybrid",
        "hybrid_and_x25519",
        "hybrid_bad_tag",
        "hybrid_currupted_enc_mlkem",
        "hybrid_currupted_enc_x25519",
        "hybrid_extra_argument",
        "hybrid_grease",
        "hybrid_identity",
        "hybrid_long_file_key",
        "hybrid_long_share",
        "hybrid_low_order",
        "hybrid_multiple_recipients",
        "hybrid_no_match",
        "hybrid_not_canonical_body",
        "hybrid_not_canonical_enc",
        "hybrid_short_share",
        "hybrid_uppercase",
        "hybrid_x25519_arg",
    )
}


@dataclass(frozen=True)
class Vector:
    name: str
    expect: str
    payload_sha256: str | None
    identities: list[str]
    passphrase: str | None
    armored: bool
    body: bytes


def load_vector(path: Path) -> Vector:
    """The one parser for the vector format: `key: value` lines, a blank line, the file."""
    head, sep, body = path.read_bytes().partition(b"\n\n")
    assert sep, f"{path.name}: no blank line after the header"
    fields: dict[str, list[str]] = {}
    for line in head.decode().splitlines():
        key, _, value = line.partition(": ")
        fields.setdefault(key, []).append(value)
    compressed = fields.get("compressed", [None])[0]
    if compressed == "zlib":
        body = zlib.decompress(body)
    else:
        assert compressed is None, f"{path.name}: unknown compression {compressed}"
    return Vector(
        name=path.name,
        expect=fields["expect"][0],
        payload_sha256=fields.get("payload", [None])[0],
        identities=fields.get("identity", []),
        passphrase=fields.get("passphrase", [None])[0],
        armored=fields.get("armored", ["no"])[0] == "yes",
        body=body,
    )


def _vector_paths() -> list[Path]:
    return sorted(p for p in VECTORS.iterdir() if p.name not in {"SOURCE.md", "LICENSE"})


def _param(path: Path) -> object:
    marks = [pytest.mark.skip(reason=SKIPS[path.name])] if path.name in SKIPS else []
    return pytest.param(path, id=path.name, marks=marks)


def _decrypt(vector: Vector) -> bytes:
    if vector.passphrase is not None:
        return vault.decrypt_with_passphrase(vector.body, vector.passphrase)
    # Two vectors (empty, armor_empty) give no key: any key must fail on them.
    return vault.decrypt(vector.body, vector.identities or [vault.generate_identity()])


def test_the_vectors_are_there() -> None:
    paths = _vector_paths()
    assert len(paths) >= 140, VECTORS
    assert set(SKIPS) <= {p.name for p in paths}, "a skip names a vector that no longer exists"
    kinds = {load_vector(p).expect for p in paths}
    assert kinds == {
        "success",
        "no match",
        "HMAC failure",
        "header failure",
        "payload failure",
        "armor failure",
    }


@pytest.mark.parametrize("path", [_param(p) for p in _vector_paths()])
def test_vector(path: Path) -> None:
    vector = load_vector(path)
    if vector.expect == "success":
        assert hashlib.sha256(_decrypt(vector)).hexdigest() == vector.payload_sha256
        return
    # Failures: a typed error, never plaintext, never a pyrage or other exception.
    expected = DecryptionError if vector.expect == "no match" else (DecryptionError, IntegrityError)
    with pytest.raises(expected):
        _decrypt(vector)
    if not vector.identities and vector.passphrase is None:
        with pytest.raises(expected):
            vault.decrypt_with_passphrase(vector.body, "any passphrase at all")


@pytest.mark.parametrize(
    "name", ["hmac_bad", "stream_bad_tag", "stream_no_final", "stream_trailing_garbage_long"]
)
def test_tampering_after_the_key_opened_is_an_integrity_error(name: str) -> None:
    # The right key opened the file key, so the failure can only be damage, not a wrong key.
    with pytest.raises(IntegrityError):
        _decrypt(load_vector(VECTORS / name))
