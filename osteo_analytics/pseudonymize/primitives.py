"""Pseudonyms and generalization primitives (DESIGN.md, invariant 3); motif categories: `motifs`.

Pure functions: bytes and values in, values out; no file, clock or network access.

Key scheme (changing any constant here changes every pseudonym; a known-answer test
guards it):

- ``derive_key(pseudonym_key, domain)``: HKDF-SHA256 with a fixed salt and the info
  ``osteo-analytics/pseudonym/v1:<domain>``. Domains are ``practice`` (the snapshots) and
  ``share:<accountant key id>`` (one per accountant bundle), so two shares cannot be
  joined on their keys and neither can be joined with the snapshots.
- ``pseudonym(derived_key, prefix, *parts)`` = ``<prefix>-`` + base32 (RFC 4648, upper
  case, no padding) of HMAC-SHA256(derived_key, prefix ␟ part1 ␟ part2 …) truncated to
  80 bits (16 characters). The prefix is inside the MAC so a ``P-`` and a ``PR-`` value
  never coincide, and the unit separator (U+001F, refused inside parts) keeps the
  encoding injective.

Collision bound: with N = 80 bits and n values in one domain, the birthday bound gives
p ≈ n² / 2^(N+1): n = 10^6 patients → p ≈ 4e-13; n = 10^7 consultations → p ≈ 4e-11.
A collision would merge two patients, so the margin is kept far below any data error.

Generated invoice numbers (sources without numbers): ``generated_number`` (bound in its
docstring).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import date, time
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from osteo_analytics.errors import ValidationError

PSEUDONYM_BITS = 80
_HKDF_SALT = b"osteo-analytics/hkdf-salt/v1"
_HKDF_INFO = b"osteo-analytics/pseudonym/v1:"
_SEP = "\x1f"
_MIN_KEY_BYTES = 32
_DOMAIN_RE = re.compile(r"practice|share:[A-Za-z0-9._-]{1,64}")
_PREFIX_RE = re.compile(r"[A-Z]{1,4}")

# --- keys and pseudonyms ---------------------------------------------------------------


def derive_key(pseudonym_key: bytes, domain: str) -> bytes:
    """Derive the 32-byte HMAC key of one pseudonymisation domain.

    ``domain`` is ``"practice"`` or ``"share:<accountant key id>"`` (id: ``[A-Za-z0-9._-]``,
    at most 64 characters). Raises ValueError for a short master key or another domain.
    """
    if len(pseudonym_key) < _MIN_KEY_BYTES:
        raise ValueError(f"pseudonym key must be at least {_MIN_KEY_BYTES} bytes")
    if not _DOMAIN_RE.fullmatch(domain):
        raise ValueError("domain must be 'practice' or 'share:<key id>'")
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=_HKDF_SALT,
        info=_HKDF_INFO + domain.encode("ascii"),
    )
    return hkdf.derive(pseudonym_key)


def _hmac(derived_key: bytes) -> hmac.HMAC:
    if len(derived_key) != 32:
        raise ValueError("derived key must be 32 bytes (use derive_key)")
    return hmac.HMAC(derived_key, hashes.SHA256())


_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 alphabet
_B32_PAIRS = tuple(a + b for a in _B32 for b in _B32)  # 10 bits → 2 characters


def _encode(prefix: str, digest: bytes) -> str:
    # 80 bits = exactly 16 base32 characters (RFC 4648, never padded). base64.b32encode
    # gives the same text (tested) but is pure Python and was most of the column time.
    n = int.from_bytes(digest[: PSEUDONYM_BITS // 8], "big")
    t = _B32_PAIRS
    return (
        f"{prefix}-{t[n >> 70]}{t[(n >> 60) & 1023]}{t[(n >> 50) & 1023]}{t[(n >> 40) & 1023]}"
        f"{t[(n >> 30) & 1023]}{t[(n >> 20) & 1023]}{t[(n >> 10) & 1023]}{t[n & 1023]}"
    )


def _message(prefix: str, parts: Iterable[str]) -> bytes:
    if not _PREFIX_RE.fullmatch(prefix):
        raise ValueError("prefix must be 1 to 4 upper-case ASCII letters")
    parts = list(parts)
    if any(_SEP in p for p in parts):
        raise ValueError("pseudonym parts must not contain U+001F")
    return _SEP.join([prefix, *parts]).encode("utf-8")


def pseudonym(derived_key: bytes, prefix: str, *parts: str) -> str:
    """Return ``<prefix>-`` + 16 base32 characters keyed on ``parts`` (see module doc)."""
    mac = _hmac(derived_key)
    mac.update(_message(prefix, parts))
    return _encode(prefix, mac.finalize())


def normalize_name(text: str | None) -> str:
    """Fold a name for matching: ``"DUPONT-Lefèvre  Marie"`` → ``"dupont lefevre marie"``.

    Case-folded; accents removed (NFKD, combining marks dropped); œ, æ, ø, đ, ł spelled
    out in ASCII; every character that is not a letter or digit (hyphen, apostrophes
    ' ’ ‘ `, comma, dot, …) becomes a space; runs of spaces collapse. So
    ``Le Berre-hamon`` = ``LE BERRE HAMON`` and ``D'Artagnan`` = ``d’artagnan``.
    """
    if text is None:
        return ""
    if text.isascii():  # fast path: most names; NFKD and casefold are identities on ASCII
        folded = text.lower()
    else:
        folded = _LATIN_MARKS.sub("", unicodedata.normalize("NFKD", text.casefold()))
        if not folded.isascii():  # rare: other scripts' marks, œ, æ, …
            folded = "".join(c for c in folded if not unicodedata.combining(c))
            folded = folded.translate(_LIGATURES)
    return _NON_ALNUM.sub(" ", folded).strip()


_NON_ALNUM = re.compile(r"[\W_]+")  # \W is "not str.isalnum() and not _"
_LATIN_MARKS = re.compile("[\u0300-\u036f]")  # every accent of French after NFKD
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})


def normalize_identity(
    family_name: str | None, first_name: str | None, birth_date: date | None
) -> str:
    """Return ``"<family>|<first>|<YYYY-MM-DD or empty>"``, each name as normalize_name.

    The family/first boundary is kept (``"Dupont Lefevre, Marie"`` as a family name is
    ``"dupont lefevre"``; the adapter splits names, not this function). A source that
    knows no birth date (a ledger's ``NOM Prénom``) yields a different identity, hence a
    different patient_key, than one that knows it: linkage is per source, by design,
    because matching on names alone would merge namesakes across sources.
    Raises ValidationError when the family name is empty after normalization.
    """
    family = normalize_name(family_name)
    if not family:
        raise ValidationError("a patient row has no family name; it cannot be keyed")
    birth = birth_date.isoformat() if birth_date is not None else ""
    return f"{family}|{normalize_name(first_name)}|{birth}"


def patient_key(
    derived_key: bytes, family_name: str | None, first_name: str | None, birth_date: date | None
) -> str:
    """``P-`` + 80-bit HMAC of normalize_identity (collision bound: module docstring)."""
    return pseudonym(derived_key, "P", normalize_identity(family_name, first_name, birth_date))


def practitioner_id(derived_key: bytes, display_name: str) -> str:
    """``PR-`` + pseudonym of the normalized display name ("Gaëlle Tanguy")."""
    name = normalize_name(display_name)
    if not name:
        raise ValidationError("a practitioner has an empty name; it cannot be keyed")
    return pseudonym(derived_key, "PR", name)


def consultation_id(
    derived_key: bytes,
    patient_key: str,
    consulted_on: date,
    start_time: time | None,
    practitioner_id: str,
) -> str:
    """``C-`` + pseudonym of (patient_key, date, HH:MM or empty, practitioner_id)."""
    hhmm = start_time.strftime("%H:%M") if start_time is not None else ""
    return pseudonym(derived_key, "C", patient_key, consulted_on.isoformat(), hhmm, practitioner_id)


GENERATED_NUMBER_BITS = 60


def generated_number(derived_key: bytes, prefix: str, day: date, *parts: str) -> str:
    """``<prefix>-YYYYMMDD-`` + 12 base32 characters keyed on the receipt's content.

    For invoices a source does not number (``L`` ledgers, ``G`` generic sheets, ``W`` Word
    files). The digest is HMAC-SHA256(derived_key, ``prefix`` ␟ ``YYYY-MM-DD`` ␟ part1 ␟ …)
    truncated to 60 bits, base32 (RFC 4648, no padding); the parts are the receipt's
    content with its patient as a ``patient_key`` (keyed: a number is stored and shared
    with the accountant, and an unkeyed hash of a name and a day could be brute-forced).
    The readable day is kept in front, so only receipts of one prefix and one day can
    collide: with n of them the birthday bound is p ≈ n² / 2^61, i.e. 4e-16 for a busy
    practice's 30 receipts a day (3e-12 over 20 years) and 9e-13 a day (7e-9 over 20
    years) for 1,400 a day, a pooled network's 10^7 consultations.
    """
    return generated_numbers(derived_key, [(prefix, day, parts)])[0]


def generated_numbers(
    derived_key: bytes, rows: Iterable[tuple[str, date, Sequence[str]]]
) -> list[str]:
    """generated_number of each (prefix, day, parts) row, with one HMAC key setup."""
    base = _hmac(derived_key)
    out = []
    t = _B32_PAIRS
    for prefix, day, parts in rows:
        mac = base.copy()
        mac.update(_message(prefix, [day.isoformat(), *parts]))
        n = int.from_bytes(mac.finalize()[:8], "big") >> (64 - GENERATED_NUMBER_BITS)
        out.append(
            f"{prefix}-{day:%Y%m%d}-{t[n >> 50]}{t[(n >> 40) & 1023]}{t[(n >> 30) & 1023]}"
            f"{t[(n >> 20) & 1023]}{t[(n >> 10) & 1023]}{t[n & 1023]}"
        )
    return out


def repseudonymize(derived_key: bytes, value: str) -> str:
    """Re-key a practice pseudonym for a share: ``P-X`` → ``P-`` + pseudonym of ``P-X``.

    The accountant's bundle only holds practice pseudonyms, never identities, so share
    keys are computed from them under the share's derived key.
    """
    prefix, dash, _ = value.partition("-")
    if not dash:
        raise ValueError("not a pseudonym: expected '<PREFIX>-…'")
    return pseudonym(derived_key, prefix, value)


# --- vectorized (Arrow) ----------------------------------------------------------------


Column: TypeAlias = "pa.Array | pa.ChunkedArray"


def _pylist(values: Column) -> list[Any]:
    return values.to_pylist()


def _map_distinct(func: Callable[[Any], str | None], values: Column) -> pa.Array:
    """Apply func once per distinct value: columns repeat few values many times."""
    cache: dict[Any, str | None] = {}
    out: list[str | None] = []
    for v in _pylist(values):
        if v not in cache:
            cache[v] = func(v)
        out.append(cache[v])
    return pa.array(out, type=pa.string())


def patient_keys(
    derived_key: bytes,
    family: Column,
    first: Column,
    birth: Column,
) -> pa.Array:
    """Column version of patient_key; null where the family name is null or empty.

    Nulls instead of an error so the caller can quarantine those rows with a reason.
    """
    if not (len(family) == len(first) == len(birth)):
        raise ValueError("family, first and birth must have the same length")
    if not (pa.types.is_date(birth.type) or pa.types.is_null(birth.type)):
        raise TypeError("birth must be a date column")
    base = _hmac(derived_key)
    head = ("P" + _SEP).encode()
    # Names and whole identities recur (a patient on every consultation row, common
    # family and first names), so each is folded and MACed once per call.
    names: dict[str | None, str] = {}
    keys: dict[tuple, str | None] = {}
    out: list[str | None] = []
    # Arrow casts DATE to ISO text in C, cheaper than building a million date objects.
    birth_iso = pc.cast(birth, pa.string())
    for row in zip(_pylist(family), _pylist(first), _pylist(birth_iso), strict=True):
        if row in keys:
            out.append(keys[row])
            continue
        fam_raw, first_raw, born = row
        fam = names.get(fam_raw)
        if fam is None:
            fam = names[fam_raw] = normalize_name(fam_raw)
        given = names.get(first_raw)
        if given is None:
            given = names[first_raw] = normalize_name(first_raw)
        key: str | None = None
        if fam:
            mac = base.copy()
            mac.update(head + f"{fam}|{given}|{born or ''}".encode())
            key = _encode("P", mac.finalize())
        keys[row] = key
        out.append(key)
    return pa.array(out, type=pa.string())


def repseudonymize_array(derived_key: bytes, values: Column) -> pa.Array:
    """Column version of repseudonymize; nulls stay null."""
    return _map_distinct(lambda v: None if v is None else repseudonymize(derived_key, v), values)


# --- generalization --------------------------------------------------------------------


def birth_year(birth_date: date | None) -> int | None:
    """The year of a birth date, or None: the only part of it kept after pseudonymize."""
    return birth_date.year if birth_date is not None else None


def birth_years(birth: Column) -> Column:
    """Column version of birth_year (int32, nulls kept)."""
    return pc.cast(pc.year(birth), pa.int32())


def departement(postcode: str | int | float | None) -> str | None:
    """The département code of a French postcode, or None when it cannot be one.

    Accepts ``"75011"``, ``" 75 011 "`` and numbers that lost their leading zero in a
    spreadsheet (``1000`` or ``1000.0`` → ``"01"``). Mainland ``01``…``95``; Corsica by
    postcode range: 20000–20190 → ``2A``, 20200–20620 → ``2B`` (others in 20xxx do not
    exist → None); ``971xx``…``976xx`` → ``"971"``…``"976"`` (so Saint-Barthélemy and
    Saint-Martin, 97133/97150, fall under 971 as their postcodes do). Monaco (98000) and
    the Pacific collectivities (984–988) are not départements → None; so are ``00xxx``,
    ``96xxx``, ``99xxx`` and anything that is not 4 or 5 digits.
    """
    if postcode is None or isinstance(postcode, bool):
        return None
    if isinstance(postcode, float):
        if not postcode.is_integer():
            return None
        postcode = int(postcode)
    if isinstance(postcode, int):
        digits = str(postcode) if postcode >= 0 else ""
    else:
        digits = "".join(str(postcode).split())  # also drops no-break spaces
    if not (digits.isascii() and digits.isdigit() and len(digits) in (4, 5)):
        return None
    code = digits.zfill(5)
    head, number = code[:2], int(code)
    if head == "20":
        if number <= 20190:
            return "2A"
        return "2B" if 20200 <= number <= 20620 else None
    if head == "97":
        return code[:3] if code[2] in "123456" else None
    if "01" <= head <= "95":
        return head
    return None


def departements(postcodes: Column) -> pa.Array:
    """Column version of departement (string or number column in, string column out)."""
    return _map_distinct(departement, postcodes)
