"""age v1 encryption recipes: bytes in, bytes out (the secrets they protect: `keys`).

Every file the tool writes is an age v1 file, so that `age -d` recovers it without us
(DESIGN.md, invariant 4). The recipes sit on pyrage (the Rust `rage`); this module only
chooses safe defaults, validates keys and turns every pyrage failure into one of two typed
errors, never releasing plaintext from a file that did not fully verify:

* `DecryptionError`: nothing we hold opens the file key: wrong identity or passphrase, a
  modified recipient stanza (indistinguishable from a stanza for someone else, by design),
  data that is not an age file, or an age version we do not know.
* `IntegrityError`: the file is malformed, truncated or modified (header structure, header
  MAC, payload chunks), or asks for an excessive scrypt work factor (> 2**22, the limit of
  `age -d`, which also bounds the memory a hostile file can make us use).

Both binary and ASCII-armored (`-----BEGIN AGE ENCRYPTED FILE-----`) input are decrypted;
we always write binary. X25519 keys only: SSH, plugin and post-quantum (ML-KEM) keys are
refused with `InvalidKeyError` (pyrage 1.4 has no ML-KEM support).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pyrage
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from osteo_analytics.errors import (
    DecryptionError,
    IntegrityError,
    InvalidKeyError,
    VaultError,
    WeakPassphraseError,
)

RandBytes = Callable[[int], bytes]

MAX_WORK_FACTOR = 22  # `age -d` refuses more; so do we, on both sides
_INTRO = b"age-encryption.org/v1\n"
_ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
_CHUNK = 64 * 1024
_DAMAGED = (
    "données chiffrées endommagées, tronquées ou modifiées : restaurez-les depuis une sauvegarde"
)


# --- keys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """An X25519 age identity; `repr()` shows only its public recipient."""

    secret: str = field(repr=False)
    recipient: str

    def __str__(self) -> str:
        return f"age identity for {self.recipient}"


def generate_identity() -> Identity:
    """A new random X25519 identity."""
    key = pyrage.x25519.Identity.generate()
    return Identity(str(key), str(key.to_public()))


# (post-quantum prefix, its refusal), (expected prefix, its refusal); case-insensitive.
_IDENTITY_TEXT = (
    ("AGE-SECRET-KEY-PQ-", "clé age post-quantique non prise en charge : utilisez une clé X25519"),
    ("AGE-SECRET-KEY-1", "ce n'est pas une identité age : une clé commence par AGE-SECRET-KEY-1"),
)
_RECIPIENT_TEXT = (
    ("AGE1PQ1", "destinataire age post-quantique non pris en charge : utilisez une clé X25519"),
    ("AGE1", "ce n'est pas un destinataire age : une clé publique commence par age1"),
)


def _key_text(text: str, rules: tuple[tuple[str, str], tuple[str, str]]) -> str:
    """`text` stripped and upper-cased once it starts like an X25519 key of this kind."""
    text = text.strip().upper()
    (post_quantum, refused), (expected, wrong) = rules
    if text.startswith(post_quantum):
        raise InvalidKeyError(refused)
    if not text.startswith(expected):
        raise InvalidKeyError(wrong)
    return text


def parse_identity(text: str) -> Identity:
    """Validate an `AGE-SECRET-KEY-1…` string; raise `InvalidKeyError` (no key in message)."""
    text = _key_text(text, _IDENTITY_TEXT)
    try:
        key = pyrage.x25519.Identity.from_str(text)
    except pyrage.IdentityError:
        raise InvalidKeyError("identité age mal formée (longueur ou somme de contrôle)") from None
    return Identity(str(key), str(key.to_public()))


def parse_recipient(text: str) -> str:
    """Validate an `age1…` X25519 recipient and return its canonical (lower-case) form."""
    text = _key_text(text, _RECIPIENT_TEXT)
    try:
        return str(pyrage.x25519.Recipient.from_str(text.lower()))
    except pyrage.RecipientError:
        raise InvalidKeyError(
            "destinataire age mal formé (longueur ou somme de contrôle)"
        ) from None


def parse_recipients(text: str) -> list[str]:
    """Parse a recipients file (one per line; blank lines and `#` comments ignored)."""
    lines = (line.strip() for line in text.splitlines())
    return [parse_recipient(line) for line in lines if line and not line.startswith("#")]


# --- encryption ------------------------------------------------------------------------


def encrypt(data: bytes, recipients: Sequence[str]) -> bytes:
    """Encrypt `data` to every X25519 recipient; binary age v1 output."""
    if isinstance(recipients, str) or not recipients:
        raise InvalidKeyError("indiquez au moins un destinataire age (clés age1…)")
    keys = [pyrage.x25519.Recipient.from_str(parse_recipient(r)) for r in recipients]
    return bytes(pyrage.encrypt(bytes(data), keys))


def decrypt(data: bytes, identities: Sequence[Identity | str]) -> bytes:
    """Decrypt an age file (binary or armored) with any of `identities`; all or nothing."""
    if isinstance(identities, str | Identity) or not identities:
        raise InvalidKeyError("indiquez au moins une identité age pour déchiffrer")
    parsed = [i if isinstance(i, Identity) else parse_identity(i) for i in identities]
    keys = [pyrage.x25519.Identity.from_str(i.secret) for i in parsed]
    data = _precheck(data)
    try:
        return bytes(pyrage.decrypt(data, keys))
    except pyrage.DecryptError as exc:
        raise _translate(exc, "aucune des clés données ne déchiffre ce fichier") from exc


def encrypt_with_passphrase(
    data: bytes, passphrase: str, *, work_factor: int | None = None
) -> bytes:
    """Encrypt `data` under an scrypt passphrase (what `age -p` writes).

    `work_factor=None` keeps rage's default, calibrated to about one second on this machine
    (19 here; `age -p` uses 18), capped at `MAX_WORK_FACTOR` so `age -d` can always open
    it. pyrage cannot set the work factor, so an explicit one (tests, slow machines) goes
    through `_scrypt_encrypt`, checked against `age` and the C2SP vectors in the tests.
    """
    if not passphrase:
        raise WeakPassphraseError("la phrase de passe est vide")
    if work_factor is None:
        out = bytes(pyrage.passphrase.encrypt(bytes(data), passphrase))
        if (_scrypt_work_factor(out) or 0) <= MAX_WORK_FACTOR:
            return out
        work_factor = MAX_WORK_FACTOR  # a machine fast enough to pick more: stay portable
    if not 1 <= work_factor <= MAX_WORK_FACTOR:
        raise VaultError(f"le facteur de travail scrypt doit être entre 1 et {MAX_WORK_FACTOR}")
    return _scrypt_encrypt(bytes(data), passphrase, work_factor, os.urandom)


def decrypt_with_passphrase(data: bytes, passphrase: str) -> bytes:
    """Decrypt an scrypt (`age -p`) file, binary or armored; all or nothing."""
    data = _precheck(data)
    try:
        return bytes(pyrage.passphrase.decrypt(data, passphrase))
    except pyrage.DecryptError as exc:
        raise _translate(
            exc, "phrase de passe incorrecte, ou fichier non chiffré par phrase de passe"
        ) from exc


def _translate(exc: pyrage.DecryptError, no_match: str) -> VaultError:
    # pyrage only has one exception class; rage's messages are the only way to tell a
    # wrong key from damage. Anything unrecognised counts as damage: never as success.
    message = str(exc)
    if "No matching keys found" in message or "Decryption failed" in message:
        return DecryptionError(no_match)
    if "xcessive work" in message:
        return DecryptionError(
            "ce fichier demande plus de calcul scrypt que cette machine n'en permet"
        )
    return IntegrityError(_DAMAGED)


def _precheck(data: bytes) -> bytes:
    """Reject what rage misjudges or would waste time on; return the bytes to hand to it."""
    data = bytes(data)
    stripped = data.strip(b" \t\r\n")
    if stripped.startswith(_ARMOR_BEGIN):
        # The spec allows whitespace around armor; rage (pyrage 1.4) rejects leading whitespace.
        data, header = stripped, _dearmor_prefix(stripped)
    elif data.startswith(_INTRO):
        header = data
    elif len(data) < len(_INTRO) and _INTRO.startswith(data):
        raise IntegrityError(_DAMAGED)  # truncated inside the first line
    elif data.startswith(b"age-encryption.org/"):
        raise DecryptionError(
            "version du format age inconnue : essayez un age ou un osteo plus récent"
        )
    else:
        raise DecryptionError("ce n'est pas un fichier chiffré par age")
    end = header.find(b"\n---")
    if end < 0 or not header.startswith(_INTRO):
        return data  # rage reports the malformed header
    stanzas: list[list[bytes]] = []
    for line in header[len(_INTRO) : end].split(b"\n"):
        if line.startswith(b"-> "):
            stanzas.append([line])
        elif stanzas:
            stanzas[-1].append(line)
    for stanza in stanzas:
        # Every stanza ends with a short body line; rage accepts files that omit it.
        if len(stanza) < 2 or len(stanza[-1]) >= 64:
            raise IntegrityError(_DAMAGED)
        wf = re.fullmatch(rb"-> scrypt \S+ ([1-9][0-9]{0,2})", stanza[0])
        if wf and int(wf.group(1)) > MAX_WORK_FACTOR:
            raise IntegrityError(
                "facteur de travail scrypt supérieur à 2**22 refusé (fichier malveillant ?)"
            )
    return data


def _dearmor_prefix(armored: bytes) -> bytes:
    """Best-effort decoding of the first lines of an armored file, to inspect its header."""
    lines = armored.split(b"\n")[1:1024]
    text = b"".join(line.strip() for line in lines if not line.startswith(b"-----"))
    try:
        return base64.b64decode(text[: len(text) // 4 * 4])
    except ValueError:
        return b""  # rage rejects bad armor itself


def _scrypt_work_factor(data: bytes) -> int | None:
    match = re.match(rb"age-encryption\.org/v1\n-> scrypt \S+ (\d{1,3})\n", data)
    return int(match.group(1)) if match else None


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")  # age uses unpadded standard base64


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=salt, info=info).derive(ikm)


def _scrypt_encrypt(data: bytes, passphrase: str, work_factor: int, randbytes: RandBytes) -> bytes:
    """age v1 with one scrypt stanza (spec: age-encryption.org/v1), for explicit work factors."""
    file_key, salt, nonce = randbytes(16), randbytes(16), randbytes(16)
    kdf = Scrypt(salt=b"age-encryption.org/v1/scrypt" + salt, length=32, n=2**work_factor, r=8, p=1)
    wrapped = ChaCha20Poly1305(kdf.derive(passphrase.encode())).encrypt(bytes(12), file_key, None)
    header = b"%s-> scrypt %s %d\n%s\n---" % (_INTRO, _b64(salt), work_factor, _b64(wrapped))
    mac = hmac.HMAC(_hkdf(file_key, b"", b"header"), hashes.SHA256())
    mac.update(header)
    out = [header, b" ", _b64(mac.finalize()), b"\n", nonce]
    stream = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
    chunks = [data[i : i + _CHUNK] for i in range(0, len(data), _CHUNK)] or [b""]
    for counter, chunk in enumerate(chunks):
        last = b"\x01" if counter == len(chunks) - 1 else b"\x00"
        out.append(stream.encrypt(counter.to_bytes(11, "big") + last, chunk, None))
    return b"".join(out)
