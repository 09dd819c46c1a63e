"""Tests of osteo_analytics.vault: round-trips, typed failures, interop with `age`, secrets.

scrypt at the default work factor costs about a second per call, so only the tests about
interoperability with `age` use it; the others pass a low `work_factor`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyrage
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osteo_analytics import keys, vault
from osteo_analytics.errors import (
    DecryptionError,
    IntegrityError,
    InvalidKeyError,
    VaultError,
    WeakPassphraseError,
)
from tests.agetty import run_age_with_terminal
from tests.conftest import AGE_VECTORS

# The C2SP CCTV test identity: a published key, fine for exact expectations.
CCTV_IDENTITY = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"
CCTV_RECIPIENT = vault.parse_identity(CCTV_IDENTITY).recipient
ID = vault.generate_identity()
OTHER = vault.generate_identity()
PASSPHRASE = "cheval agrafe batterie correcte"
LOW = 10  # scrypt work factor for tests that are not about the default cost
CHUNK = 64 * 1024
SCRYPT_23 = AGE_VECTORS / "scrypt_work_factor_23"


def counter_bytes() -> Callable[[int], bytes]:
    """Deterministic 'randomness': 0, 1, 2, ... as bytes, so outputs are exact."""
    state = {"next": 0}

    def randbytes(n: int) -> bytes:
        start = state["next"]
        state["next"] += n
        return bytes(i % 256 for i in range(start, start + n))

    return randbytes


def constant_bytes(value: int) -> Callable[[int], bytes]:
    """'Randomness' that always returns `value`, big-endian."""
    return lambda n: value.to_bytes(n, "big")


def header_end(ciphertext: bytes) -> int:
    """Offset of the first byte after the header's MAC line."""
    return ciphertext.index(b"\n", ciphertext.index(b"\n---") + 1) + 1


# --- round trips ------------------------------------------------------------------------


@given(st.binary(max_size=2048))
def test_x25519_round_trip(data: bytes) -> None:
    assert vault.decrypt(vault.encrypt(data, [ID.recipient]), [ID]) == data


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 3 * CHUNK + 7), st.integers(0, 2**32))
def test_round_trip_across_chunk_boundaries(size: int, seed: int) -> None:
    data = random.Random(seed).randbytes(size)
    assert vault.decrypt(vault.encrypt(data, [ID.recipient]), [ID.secret]) == data


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 1])
def test_chunk_boundaries_both_recipes(size: int) -> None:
    data = os.urandom(size)
    assert vault.decrypt(vault.encrypt(data, [ID.recipient]), [ID]) == data
    wrapped = vault.encrypt_with_passphrase(data, PASSPHRASE, work_factor=LOW)
    assert vault.decrypt_with_passphrase(wrapped, PASSPHRASE) == data
    assert pyrage.passphrase.decrypt(wrapped, PASSPHRASE) == data  # rage agrees


@settings(max_examples=20, deadline=None)
@given(st.binary(max_size=300), st.text(min_size=1, max_size=40))
def test_passphrase_round_trip(data: bytes, passphrase: str) -> None:
    wrapped = vault.encrypt_with_passphrase(data, passphrase, work_factor=LOW)
    assert wrapped.startswith(b"age-encryption.org/v1\n-> scrypt ")
    assert vault.decrypt_with_passphrase(wrapped, passphrase) == data


def test_every_recipient_can_decrypt_and_output_is_binary() -> None:
    ciphertext = vault.encrypt(b"bilan 2024", [ID.recipient, OTHER.recipient])
    assert ciphertext.startswith(b"age-encryption.org/v1\n")
    assert vault.decrypt(ciphertext, [ID]) == vault.decrypt(ciphertext, [OTHER]) == b"bilan 2024"
    assert vault.decrypt(ciphertext, [vault.generate_identity(), OTHER]) == b"bilan 2024"


def test_armored_input_is_accepted() -> None:
    armored = pyrage.encrypt(b"armure", [pyrage.x25519.Recipient.from_str(ID.recipient)], True)
    assert armored.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    assert vault.decrypt(b"\n  " + armored + b"\r\n", [ID]) == b"armure"


def test_our_scrypt_writer_is_exact_and_follows_the_format() -> None:
    # Exact output with injected randomness (file key, salt, nonce = bytes 0..47).
    out = vault._scrypt_encrypt(b"hello", "password", LOW, counter_bytes())
    salt = base64.b64encode(bytes(range(16, 32))).rstrip(b"=").decode()
    assert out.startswith(f"age-encryption.org/v1\n-> scrypt {salt} {LOW}\n".encode())
    assert out[header_end(out) : header_end(out) + 16] == bytes(range(32, 48))
    assert len(out) == header_end(out) + 16 + 5 + 16  # nonce, payload, one Poly1305 tag
    assert pyrage.passphrase.decrypt(out, "password") == b"hello"
    assert vault._scrypt_encrypt(b"hello", "password", LOW, counter_bytes()) == out


def test_default_work_factor_is_rages_and_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    assert vault.MAX_WORK_FACTOR == 22  # what `age -d` accepts
    # A machine fast enough for rage to pick 2**23: we re-encrypt at the cap instead.
    monkeypatch.setattr(vault, "MAX_WORK_FACTOR", LOW)
    age_file = SCRYPT_23.read_bytes().partition(b"\n\n")[2]
    monkeypatch.setattr(pyrage.passphrase, "encrypt", lambda *args: age_file)
    out = vault.encrypt_with_passphrase(b"data", PASSPHRASE)
    assert re.match(rb"age-encryption.org/v1\n-> scrypt \S+ 10\n", out)
    assert vault.decrypt_with_passphrase(out, PASSPHRASE) == b"data"


@pytest.mark.parametrize("work_factor", [0, -1, 23, 40])
def test_work_factor_out_of_range(work_factor: int) -> None:
    with pytest.raises(VaultError, match="entre 1 et 22"):
        vault.encrypt_with_passphrase(b"x", PASSPHRASE, work_factor=work_factor)


def test_empty_passphrase_is_refused() -> None:
    with pytest.raises(WeakPassphraseError):
        vault.encrypt_with_passphrase(b"x", "", work_factor=LOW)


# --- failures are typed, opaque and release nothing ----------------------------------------

X25519_FILE = vault.encrypt(b"consultations" * 10, [ID.recipient])
SCRYPT_FILE = vault.encrypt_with_passphrase(b"secrets" * 10, PASSPHRASE, work_factor=LOW)


def test_wrong_key_and_wrong_passphrase_are_decryption_errors() -> None:
    with pytest.raises(DecryptionError) as wrong_key:
        vault.decrypt(X25519_FILE, [OTHER])
    with pytest.raises(DecryptionError) as wrong_passphrase:
        vault.decrypt_with_passphrase(SCRYPT_FILE, PASSPHRASE + "!")
    with pytest.raises(DecryptionError):
        vault.decrypt_with_passphrase(X25519_FILE, PASSPHRASE)
    with pytest.raises(DecryptionError):
        vault.decrypt(SCRYPT_FILE, [ID])
    for error in (wrong_key.value, wrong_passphrase.value):
        assert not isinstance(error, IntegrityError)
        assert "\n" not in str(error)
        assert_no_secret(str(error))


@pytest.mark.parametrize(
    "data",
    [
        b"PAR1\x00\x00",
        b"id;nom;prenom\n1;Dupont;Anne\n",
        b"\x89PNG\r\n",
        b"age-encryption.org/v2\n",
    ],
)
def test_not_an_age_file_is_a_decryption_error(data: bytes) -> None:
    with pytest.raises(DecryptionError):
        vault.decrypt(data, [ID])
    with pytest.raises(DecryptionError):
        vault.decrypt_with_passphrase(data, PASSPHRASE)


def region(ciphertext: bytes, offset: int) -> str:
    if offset < len(b"age-encryption.org/v1\n"):
        return "intro"
    if offset <= ciphertext.index(b"\n---"):
        return "stanzas"
    return "mac" if offset < header_end(ciphertext) else "payload"


# Which error a change raises depends on where it lands (documented in vault's docstring):
# a changed recipient stanza cannot be told from a stanza for another key.
EXPECTED_BY_REGION: dict[str, tuple[type[VaultError], ...]] = {
    "intro": (DecryptionError,),  # no longer an age v1 file
    "stanzas": (DecryptionError, IntegrityError),
    "mac": (IntegrityError,),
    "payload": (IntegrityError,),
}


@pytest.mark.parametrize(
    ("ciphertext", "decrypt"),
    [
        (X25519_FILE, lambda data: vault.decrypt(data, [ID])),
        (SCRYPT_FILE, lambda data: vault.decrypt_with_passphrase(data, PASSPHRASE)),
    ],
    ids=["x25519", "scrypt"],
)
def test_every_bit_flip_and_truncation_is_a_typed_error(
    ciphertext: bytes, decrypt: Callable[[bytes], bytes]
) -> None:
    seen: dict[str, set[str]] = {}
    for offset in range(len(ciphertext)):
        for bit in range(8):
            tampered = bytearray(ciphertext)
            tampered[offset] ^= 1 << bit
            with pytest.raises(EXPECTED_BY_REGION[region(ciphertext, offset)]) as caught:
                decrypt(bytes(tampered))  # a flip in the work factor can raise it: still cheap
            seen.setdefault(region(ciphertext, offset), set()).add(type(caught.value).__name__)
            assert_no_secret(str(caught.value))
        with pytest.raises(IntegrityError):
            decrypt(ciphertext[:offset])
    assert set(seen) == set(EXPECTED_BY_REGION)


def test_appended_bytes_are_an_integrity_error() -> None:
    with pytest.raises(IntegrityError):
        vault.decrypt(X25519_FILE + b"\x00", [ID])


def assert_no_secret(message: str) -> None:
    for secret in (PASSPHRASE, ID.secret, OTHER.secret, CCTV_IDENTITY):
        assert secret not in message and secret.lower() not in message.lower()


# --- keys ----------------------------------------------------------------------------------


def test_identity_parsing_and_repr() -> None:
    parsed = vault.parse_identity(f"  {CCTV_IDENTITY.lower()}\n")
    assert parsed.secret == CCTV_IDENTITY
    assert parsed.recipient == str(pyrage.x25519.Identity.from_str(CCTV_IDENTITY).to_public())
    assert CCTV_IDENTITY not in repr(parsed) and CCTV_IDENTITY not in str(parsed)
    assert parsed.recipient in repr(parsed)
    assert vault.parse_recipient(parsed.recipient.upper()) == parsed.recipient


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "pas une identité age"),
        ("age1abcdef", "pas une identité age"),
        (CCTV_IDENTITY[:-1] + "Q", "mal form"),
        (CCTV_IDENTITY[:-5], "mal form"),
        (
            "AGE-SECRET-KEY-PQ-1HZLGZUPT4ETPKDEV8HSGFDCYZ4E522W0A7PU2LHT8EH9W6YLNC3SW78XKG",
            "post-quantique",
        ),
        ("AGE-PLUGIN-YUBIKEY-1QQQQ", "pas une identité age"),
    ],
)
def test_bad_identities(text: str, reason: str) -> None:
    with pytest.raises(InvalidKeyError, match=reason) as caught:
        vault.parse_identity(text)
    assert text.strip() == "" or text not in str(caught.value)
    with pytest.raises(InvalidKeyError):
        vault.decrypt(X25519_FILE, [text])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "pas un destinataire age"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO", "pas un destinataire age"),
        (CCTV_RECIPIENT[:-1] + ("q" if CCTV_RECIPIENT[-1] != "q" else "p"), "mal form"),
        ("age1pq1qqqqqqqq", "post-quantique"),
        (CCTV_IDENTITY, "pas un destinataire age"),
    ],
)
def test_bad_recipients(text: str, reason: str) -> None:
    with pytest.raises(InvalidKeyError, match=reason) as caught:
        vault.parse_recipient(text)
    assert text == "" or text not in str(caught.value)
    with pytest.raises(InvalidKeyError):
        vault.encrypt(b"x", [ID.recipient, text])


def test_empty_key_lists_are_refused() -> None:
    with pytest.raises(InvalidKeyError):
        vault.encrypt(b"x", [])
    with pytest.raises(InvalidKeyError):
        vault.encrypt(b"x", ID.recipient)  # a bare string is not a list of recipients
    with pytest.raises(InvalidKeyError):
        vault.decrypt(X25519_FILE, [])


def test_recipients_file() -> None:
    text = f"# cabinet\n\n{ID.recipient}\n  {OTHER.recipient.upper()}  \n# fin\n"
    assert vault.parse_recipients(text) == [ID.recipient, OTHER.recipient]


# --- interop with the real `age` binary --------------------------------------------------


def test_age_decrypts_our_files(tmp_path: Path) -> None:
    (tmp_path / "key.txt").write_text(f"# test key\n{ID.secret}\n")
    (tmp_path / "file.age").write_bytes(vault.encrypt(b"recettes 2024", [ID.recipient]))
    result = subprocess.run(
        ["age", "-d", "-i", str(tmp_path / "key.txt"), str(tmp_path / "file.age")],
        capture_output=True,
        check=True,
    )
    assert result.stdout == b"recettes 2024"


@pytest.mark.parametrize("armor", [[], ["-a"]], ids=["binary", "armored"])
def test_we_decrypt_files_from_age(tmp_path: Path, armor: list[str]) -> None:
    data = os.urandom(CHUNK + 3)
    result = subprocess.run(
        ["age", *armor, "-r", ID.recipient], input=data, capture_output=True, check=True
    )
    assert vault.decrypt(result.stdout, [ID]) == data
    with pytest.raises(DecryptionError):
        vault.decrypt(result.stdout, [OTHER])


@pytest.mark.parametrize(
    "work_factor", [pytest.param(None, marks=pytest.mark.slow), LOW], ids=["default", "low"]
)
def test_age_decrypts_our_passphrase_files(tmp_path: Path, work_factor: int | None) -> None:
    wrapped = vault.encrypt_with_passphrase(b"cle de secours", PASSPHRASE, work_factor=work_factor)
    (tmp_path / "in.age").write_bytes(wrapped)
    out = tmp_path / "out"
    run_age_with_terminal(["-d", "-o", str(out), str(tmp_path / "in.age")], PASSPHRASE)
    assert out.read_bytes() == b"cle de secours"


def test_we_decrypt_age_passphrase_files(tmp_path: Path) -> None:
    code = keys.recovery_code()
    (tmp_path / "plain").write_bytes(b"identite" * 1000)
    out = tmp_path / "out.age"
    run_age_with_terminal(["-p", "-o", str(out), str(tmp_path / "plain")], code)
    assert re.match(rb"age-encryption.org/v1\n-> scrypt \S+ 18\n", out.read_bytes())
    assert vault.decrypt_with_passphrase(out.read_bytes(), code) == b"identite" * 1000
    with pytest.raises(DecryptionError):
        vault.decrypt_with_passphrase(out.read_bytes(), keys.recovery_code())


# --- secrets ---------------------------------------------------------------------------------

NOW = datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))


def fixed_secrets() -> keys.Secrets:
    identity = vault.parse_identity(CCTV_IDENTITY)
    return keys.Secrets.generate(now=NOW, randbytes=counter_bytes(), identity=identity)


def test_secrets_generate_is_exact() -> None:
    secrets = fixed_secrets()
    recipient = vault.parse_identity(CCTV_IDENTITY).recipient
    assert secrets.identity == CCTV_IDENTITY and secrets.recipient == recipient
    assert secrets.pseudonym_key == bytes(range(32))
    assert secrets.restic_password == base64.urlsafe_b64encode(bytes(range(32, 64))).decode()[:43]
    assert secrets.key_id == hashlib.sha256(recipient.encode()).hexdigest()[:16]
    assert secrets.created_at == datetime(2024, 3, 1, 8, 30, 15, tzinfo=UTC)
    assert secrets.identities() == [CCTV_IDENTITY]


def test_secrets_serialization_round_trip_and_format() -> None:
    secrets = fixed_secrets().with_retired(ID.secret)
    data = secrets.to_bytes()
    assert keys.Secrets.from_bytes(data) == secrets
    lines = data.decode().splitlines()
    # An age identity file: metadata in comments, then the identities, current first.
    assert lines[0] == "# osteo-analytics workspace secrets"
    assert "# version: 1" in lines and "# created-at: 2024-03-01T08:30:15+00:00" in lines
    assert [line for line in lines if not line.startswith("#")] == [CCTV_IDENTITY, ID.secret]
    assert {line.split(":")[0] for line in lines[1:] if line.startswith("#")} == {
        "# version",
        "# key-id",
        "# created-at",
        "# pseudonym-key",
        "# restic-password",
    }


def test_secrets_repr_and_str_hide_every_secret() -> None:
    secrets = fixed_secrets().with_retired(ID.secret)
    for shown in (repr(secrets), str(secrets), f"{secrets}", repr([secrets])):
        assert secrets.key_id in shown
        for secret in (CCTV_IDENTITY, ID.secret, secrets.restic_password):
            assert secret not in shown
        assert repr(secrets.pseudonym_key) not in shown
        assert base64.b64encode(secrets.pseudonym_key).decode() not in shown


def test_secrets_random_by_default() -> None:
    a, b = keys.Secrets.generate(), keys.Secrets.generate()
    assert a.identity != b.identity and a.pseudonym_key != b.pseudonym_key
    assert a.restic_password != b.restic_password and len(a.restic_password) == 43
    assert a.created_at.tzinfo is not None


def test_rotation_keeps_pseudonym_key_and_holds_both_identities() -> None:
    old = fixed_secrets()
    new = old.rotated(now=NOW)
    assert new.identity != old.identity and new.key_id != old.key_id
    assert new.pseudonym_key == old.pseudonym_key
    assert new.restic_password == old.restic_password
    both = new.with_retired(old.identity)
    assert both.identities() == [new.identity, old.identity]
    assert both.with_retired(old.identity) == both
    ciphertext = vault.encrypt(b"ancien", [old.recipient])
    assert vault.decrypt(ciphertext, both.identities()) == b"ancien"
    assert keys.Secrets.from_bytes(both.to_bytes()) == both


def _edited(**changes: object) -> bytes:
    """The fixed secrets file with some `# name: value` lines (or the identity) replaced."""
    out = []
    for line in fixed_secrets().to_bytes().decode().splitlines():
        name = line[2:].partition(":")[0] if line.startswith("# ") else "identity"
        key = name.replace("-", "_")
        if key in changes:
            value = changes[key]
            if value is None:
                continue
            line = f"# {name}: {value}" if line.startswith("# ") else str(value)
        out.append(line)
    return ("\n".join(out) + "\n").encode()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a key file",
        b"# osteo-analytics workspace secrets\n# version: 1\n",
        "# osteo-analytics workspace secrets é".encode(),
        _edited(key_id="0123456789abcdef"),
        _edited(pseudonym_key=base64.b64encode(b"short").decode()),
        _edited(pseudonym_key="not base64!"),
        _edited(identity="AGE-SECRET-KEY-1QQQQ"),
        _edited(created_at="2024-03-01T08:30:15"),
        _edited(created_at=12),
        _edited(restic_password="short"),
        _edited(pseudonym_key=None),
        _edited(identity="# just a comment"),
    ],
)
def test_malformed_secrets_are_integrity_errors(data: bytes) -> None:
    with pytest.raises(IntegrityError) as caught:
        keys.Secrets.from_bytes(data)
    assert CCTV_IDENTITY not in str(caught.value)


@pytest.mark.parametrize("version", [0, 2, "1.0", None])
def test_unknown_secrets_version_is_refused(version: object) -> None:
    with pytest.raises(VaultError, match="plus récente") as caught:
        keys.Secrets.from_bytes(_edited(version=version))
    assert type(caught.value) is VaultError


# --- recovery codes ----------------------------------------------------------------------------

CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){5}")


def test_recovery_code_format() -> None:
    codes = {keys.recovery_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(CODE.fullmatch(code) for code in codes)
    assert keys.recovery_code(counter_bytes()) == keys.recovery_code(counter_bytes())


def test_recovery_code_carries_145_random_bits() -> None:
    # Every one of the first 145 random bits changes the code: at least 128 bits of entropy.
    inputs = [0] + [1 << (151 - bit) for bit in range(145)]  # vault draws 19 bytes, keeps 145 bits
    codes = {keys.recovery_code(constant_bytes(i)) for i in inputs}
    assert len(codes) == 146
    # The 7 low bits are dropped: 145 bits, no more.
    assert keys.recovery_code(constant_bytes(1 << 6)) == keys.recovery_code(constant_bytes(0))


def test_recovery_code_normalization() -> None:
    code = keys.recovery_code()
    assert keys.normalize_recovery_code(code) == code
    assert keys.normalize_recovery_code(code.lower()) == code
    assert keys.normalize_recovery_code(code.replace("-", "")) == code
    assert keys.normalize_recovery_code("  " + code.replace("-", " ").lower() + "\n") == code
    misread = code.replace("0", "o").replace("1", "l")
    assert keys.normalize_recovery_code(misread) == code


def test_recovery_code_typos_are_caught() -> None:
    code = keys.recovery_code(counter_bytes())
    caught = 0
    for position in [i for i, c in enumerate(code) if c != "-"]:
        symbol = "Z" if code[position] != "Z" else "Y"
        try:
            keys.normalize_recovery_code(code[:position] + symbol + code[position + 1 :])
        except InvalidKeyError as error:
            assert "faute de frappe" in str(error)
            caught += 1
    assert caught >= 27  # a 5-bit check symbol misses about 1 typo in 32
    for bad in ["", code[:-1], code + "A", code.replace(code[0], "U", 1), "hello world"]:
        with pytest.raises(InvalidKeyError):
            keys.normalize_recovery_code(bad)


# --- passphrase strength ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("passphrase", "reason"),
    [
        ("", "trop courte"),
        ("Xq7#mZ2!pL9", "trop courte"),
        ("123456789012345", "uniquement de chiffres"),
        ("06 12 34 56 78 90", "uniquement de chiffres"),
        ("aaaaaaaaaaaaaaaa", "trop répétitive"),
        ("abababababab", "trop répétitive"),
        ("Password2024!", "mot courant"),
        ("motdepasse123456", "mot courant"),
        ("azertyuiopqsdf", "mot courant"),
        ("abcdefghijklmnop", "mot courant"),
        ("qwerty123!@#$%", "mot courant"),
        ("Osteopathe-2023", "mot courant"),
        ("soleil-bonjour-2024", "mot courant"),
    ],
)
def test_weak_passphrases(passphrase: str, reason: str) -> None:
    with pytest.raises(WeakPassphraseError, match=reason) as caught:
        keys.check_passphrase_strength(passphrase)
    assert passphrase == "" or passphrase not in str(caught.value)


@pytest.mark.parametrize(
    "passphrase",
    [
        "cheval agrafe batterie correcte",
        "correct horse battery staple",
        "Tr0ub4dor&3xyz",
        "la mer à Étretat en novembre",
        "k9#Lm2vQx7pZ",
    ],
)
def test_strong_passphrases(passphrase: str) -> None:
    keys.check_passphrase_strength(passphrase)


def test_recovery_codes_are_strong_passphrases() -> None:
    for _ in range(50):
        keys.check_passphrase_strength(keys.recovery_code())
