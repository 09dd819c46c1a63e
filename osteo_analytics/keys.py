"""The workspace's secrets and the rules that protect them.

- `Secrets`: what `keys/identity.age` holds (the age identity, the pseudonym key, the
  restic password), serialized as an age identity file with metadata comments, so
  `age -d -i` and `restic` can use it without this software (DESIGN.md, invariant 4).
- `recovery_code()`: the code `osteo init` prints once (Crockford base32 with a check
  symbol), and `normalize_recovery_code()` for what a person types back.
- `check_passphrase_strength()`: the passphrase policy.

The age recipes these secrets are used with live in `vault`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from osteo_analytics.errors import IntegrityError, InvalidKeyError, VaultError, WeakPassphraseError
from osteo_analytics.vault import Identity, RandBytes, generate_identity, parse_identity

_SECRETS_VERSION = 1
_SECRETS_HEADER = "# osteo-analytics workspace secrets"


def key_id(recipient: str) -> str:
    """Names an age key: first 16 hex digits of SHA-256 of its `age1…` recipient."""
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
            key_id=key_id(identity.recipient),
            created_at=(now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0),
        )

    def rotated(self, *, now: datetime | None = None, identity: Identity | None = None) -> Secrets:
        """A new age identity; pseudonym key and restic password kept (pseudonyms stay stable)."""
        identity = identity or generate_identity()
        return replace(
            self,
            identity=identity.secret,
            key_id=key_id(identity.recipient),
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
            or secrets.key_id != key_id(identity.recipient)
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
