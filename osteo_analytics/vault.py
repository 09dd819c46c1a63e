"""age v1 encryption recipes (bytes in, bytes out) and the workspace secrets they protect.

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
import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

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


def parse_identity(text: str) -> Identity:
    """Validate an `AGE-SECRET-KEY-1…` string; raise `InvalidKeyError` (no key in message)."""
    text = text.strip()
    if text.upper().startswith("AGE-SECRET-KEY-PQ-"):
        raise InvalidKeyError(
            "clé age post-quantique non prise en charge : utilisez une clé X25519"
        )
    if not text.upper().startswith("AGE-SECRET-KEY-1"):
        raise InvalidKeyError(
            "ce n'est pas une identité age : une clé commence par AGE-SECRET-KEY-1"
        )
    try:
        key = pyrage.x25519.Identity.from_str(text)
    except pyrage.IdentityError:
        raise InvalidKeyError("identité age mal formée (longueur ou somme de contrôle)") from None
    return Identity(str(key), str(key.to_public()))


def parse_recipient(text: str) -> str:
    """Validate an `age1…` X25519 recipient and return its canonical (lower-case) form."""
    text = text.strip()
    if text.lower().startswith("age1pq1"):
        raise InvalidKeyError(
            "destinataire age post-quantique non pris en charge : utilisez une clé X25519"
        )
    if not text.lower().startswith("age1"):
        raise InvalidKeyError(
            "ce n'est pas un destinataire age : une clé publique commence par age1"
        )
    try:
        return str(pyrage.x25519.Recipient.from_str(text))
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


# --- workspace secrets -----------------------------------------------------------------

_SECRETS_VERSION = 1
_SECRETS_HEADER = "# osteo-analytics workspace secrets"


def _key_id(recipient: str) -> str:
    return hashlib.sha256(recipient.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Secrets:
    """What `keys/identity.age` holds. `repr()`/`str()` show only public facts."""

    identity: str = field(repr=False)  # AGE-SECRET-KEY-1…, the current key
    pseudonym_key: bytes = field(repr=False)  # 32 bytes, HMAC key for patient pseudonyms
    restic_password: str = field(repr=False)
    key_id: str  # first 16 hex digits of SHA-256(recipient): names the key, reveals nothing
    created_at: datetime  # timezone-aware UTC
    # Identities being rotated away: still able to decrypt until every file is re-encrypted.
    retired_identities: tuple[str, ...] = field(default=(), repr=False)

    @property
    def recipient(self) -> str:
        """The public key new files are encrypted to."""
        return parse_identity(self.identity).recipient

    def identities(self) -> list[str]:
        """Every identity that may decrypt workspace files, current first."""
        return [self.identity, *self.retired_identities]

    @classmethod
    def generate(
        cls,
        *,
        now: datetime | None = None,
        randbytes: RandBytes = os.urandom,
        identity: Identity | None = None,
    ) -> Secrets:
        """Fresh secrets; clock, randomness and identity are injectable for exact tests."""
        identity = identity or generate_identity()
        return cls(
            identity=identity.secret,
            pseudonym_key=randbytes(32),
            restic_password=base64.urlsafe_b64encode(randbytes(32)).rstrip(b"=").decode(),
            key_id=_key_id(identity.recipient),
            created_at=(now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0),
        )

    def rotated(self, *, now: datetime | None = None, identity: Identity | None = None) -> Secrets:
        """A new age identity; pseudonym key and restic password kept (pseudonyms stay stable)."""
        identity = identity or generate_identity()
        return replace(
            self,
            identity=identity.secret,
            key_id=_key_id(identity.recipient),
            created_at=(now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0),
            retired_identities=(),
        )

    def with_retired(self, identity: str) -> Secrets:
        """These secrets, also holding `identity` (an old key) for decryption only."""
        old = parse_identity(identity).secret
        if old in self.identities():
            return self
        return replace(self, retired_identities=(*self.retired_identities, old))

    def to_bytes(self) -> bytes:
        """The plaintext the workspace encrypts: an age identity file with metadata comments.

        age ignores `#` lines, so `age -d -i keys/identity.recovery.age FILE` opens any data
        file with the recovery code alone (README, "Recover your data without this
        software"). The current identity comes first; retired ones follow during a rotation.
        """
        lines = [
            _SECRETS_HEADER,
            f"# version: {_SECRETS_VERSION}",
            f"# key-id: {self.key_id}",
            f"# created-at: {self.created_at.isoformat()}",
            f"# pseudonym-key: {base64.b64encode(self.pseudonym_key).decode()}",
            f"# restic-password: {self.restic_password}",
            *self.identities(),
        ]
        return ("\n".join(lines) + "\n").encode("ascii")

    @classmethod
    def from_bytes(cls, data: bytes) -> Secrets:
        """Parse `to_bytes()` output; typed errors that never quote the content."""
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise IntegrityError(
                "le fichier de clés n'est pas un fichier de clés osteo-analytics"
            ) from None
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines or lines[0] != _SECRETS_HEADER:
            raise IntegrityError("le fichier de clés n'est pas un fichier de clés osteo-analytics")
        meta: dict[str, str] = {}
        keys: list[str] = []
        for line in lines[1:]:
            if line.startswith("#"):
                name, sep, value = line[1:].partition(":")
                if sep:
                    meta[name.strip()] = value.strip()
            else:
                keys.append(line)
        if meta.get("version") != str(_SECRETS_VERSION):
            raise VaultError(
                "clés écrites par une version plus récente d'osteo-analytics : mettez-le à jour"
            )
        try:
            if not keys:
                raise ValueError("no identity")
            identity = parse_identity(keys[0])
            secrets = cls(
                identity=identity.secret,
                retired_identities=tuple(parse_identity(i).secret for i in keys[1:]),
                pseudonym_key=base64.b64decode(meta["pseudonym-key"], validate=True),
                restic_password=meta["restic-password"],
                key_id=meta["key-id"],
                created_at=datetime.fromisoformat(meta["created-at"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError, InvalidKeyError):
            raise IntegrityError("le fichier de clés est incomplet ou mal formé") from None
        if (
            len(secrets.pseudonym_key) != 32
            or len(secrets.restic_password) < 32
            or secrets.key_id != _key_id(identity.recipient)
            or secrets.created_at.tzinfo is None
        ):
            raise IntegrityError(
                "le fichier de clés est incohérent (identifiant, longueurs ou date)"
            )
        return secrets


# --- recovery codes and passphrases ----------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: nothing to misread
_CODE_SYMBOLS = 29  # 145 random bits, + 1 check symbol = 6 groups of 5


def _check_symbol(symbols: str) -> str:
    return _CROCKFORD[hashlib.sha256(symbols.encode()).digest()[0] % 32]


def recovery_code(randbytes: RandBytes = os.urandom) -> str:
    """A code like `7KQ2M-…` (6 groups of 5): 145 random bits and a typo-catching check symbol.

    It is used verbatim (upper case, with dashes) as an age passphrase, so `age -d` opens
    `keys/identity.recovery.age` when typed exactly as printed.
    """
    number = int.from_bytes(randbytes(19), "big") >> (19 * 8 - 5 * _CODE_SYMBOLS)
    symbols = "".join(_CROCKFORD[(number >> (5 * i)) & 31] for i in reversed(range(_CODE_SYMBOLS)))
    code = symbols + _check_symbol(symbols)
    return "-".join(code[i : i + 5] for i in range(0, len(code), 5))


def normalize_recovery_code(text: str) -> str:
    """Canonical form of a code as typed: any case, spaces or dashes, O/I/L read as 0/1/1."""
    raw = re.sub(r"[\s\-]", "", text).upper().translate(str.maketrans("OIL", "011"))
    if len(raw) != _CODE_SYMBOLS + 1 or any(c not in _CROCKFORD for c in raw):
        raise InvalidKeyError("un code de secours a 30 lettres et chiffres en 6 groupes de 5")
    if _check_symbol(raw[:-1]) != raw[-1]:
        raise InvalidKeyError(
            "ce code de secours contient une faute de frappe : vérifiez chaque groupe sur le papier"
        )
    return "-".join(raw[i : i + 5] for i in range(0, len(raw), 5))


_MIN_LENGTH = 12
_COMMON = re.compile(
    r"(19|20)\d\d|passw[o0]rd|motdepasse|azerty|qwerty|soleil|bonjour|iloveyou|jetaime|admin"
    r"|welcome|letmein|secret|osteo(path(i?e)?)?|cabinet|patient|changeme|france|doctolib"
)
# Keyboard rows (AZERTY and QWERTY), alphabet and digits; spaces keep the rows apart.
_RUNS = "abcdefghijklmnopqrstuvwxyz 01234567890 azertyuiop qsdfghjklm wxcvbn qwertyuiop asdfghjkl"
_RUNS += " zxcvbnm !@#$%^&*()"


def _pattern_length(text: str, i: int) -> int:
    """Length of the common word, year or keyboard/alphabet run (>= 3) starting at `i`."""
    word = _COMMON.match(text, i)
    if word:
        return word.end() - i
    k = 0
    while i + k < len(text) and (
        text[i : i + k + 1] in _RUNS or text[i : i + k + 1][::-1] in _RUNS
    ):
        k += 1
    return k if k >= 3 else 0


def check_passphrase_strength(passphrase: str) -> None:
    """Raise `WeakPassphraseError` with the reason if `passphrase` is weak.

    The rule: at least 12 characters; not only digits; at least 6 distinct characters; and
    at least 8 characters left once common words (password, azerty, soleil…), years and
    keyboard or alphabet runs of 3+ are taken out. Several unrelated words pass easily.
    """
    if len(passphrase) < _MIN_LENGTH:
        raise WeakPassphraseError(
            f"phrase de passe trop courte : au moins {_MIN_LENGTH} caractères, "
            "par exemple des mots sans rapport entre eux"
        )
    compact = re.sub(r"[\s\-_.,;:]", "", passphrase.lower())
    if compact.isdigit():
        raise WeakPassphraseError(
            "phrase de passe faite uniquement de chiffres : utilisez des mots"
        )
    if len(set(compact)) < 6:
        raise WeakPassphraseError(
            "phrase de passe trop répétitive : utilisez des mots sans rapport entre eux"
        )
    rest, i = 0, 0
    while i < len(compact):
        step = _pattern_length(compact, i)
        rest, i = (rest, i + step) if step else (rest + 1, i + 1)
    if rest < 8:
        raise WeakPassphraseError(
            "phrase de passe faite surtout d'un mot courant, d'une année "
            "ou d'une suite de touches : "
            "utilisez des mots sans rapport entre eux"
        )
