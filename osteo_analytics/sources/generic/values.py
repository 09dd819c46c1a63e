"""Cell values of home-made spreadsheets → canonical values (generic adapter).

Dates, amounts, payment means and names go through :mod:`.frenchparse` (shared with the
ledger and Word adapters); this module adds what a mapping file decides (date format,
decimal separator, value maps) and the built-in French words for statuses, types and sex.
Every function raises :class:`~.frenchparse.BadValue` with a rule name, never the value.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from osteo_analytics.pseudonymize.primitives import normalize_name
from osteo_analytics.sources import frenchparse as fp
from osteo_analytics.sources.generic.mapping import Mapping

BadValue = fp.BadValue
MAX_NAME = 200  # longer "names" are pasted notes or junk: quarantined, never keyed

# Built-in words (folded, matched as prefixes of the folded cell); a mapping's `values`
# come first. An empty status cell is a session that took place.
_STATUS_WORDS = (
    ("no_show", ("absent", "non honor", "lapin", "pas venu", "non venu", "no show", "oubli")),
    ("cancelled", ("annul", "decommand", "report", "cancel")),
    ("done", ("fait", "effectu", "realis", "honor", "ok", "present", "vu", "termin", "done")),
)
_TYPE_WORDS = (
    ("first", ("premier", "premiere", "1er", "1ere", "nouveau", "nouvelle", "bilan initial")),
    ("follow_up", ("suivi", "suite", "controle", "seance de suivi")),
    ("return", ("retour", "reprise")),
    ("urgent", ("urgen",)),
    ("home", ("domicile", "visite a domicile")),
)
_INVOICE_WORDS = (
    ("cancelled", ("annul",)),
    ("issued", ("impaye", "non regle", "non paye", "en attente", "a regler", "emise", "du")),
    ("paid", ("paye", "regle", "acquitte", "encaisse", "solde", "oui", "ok")),
)
# payment cells that say "not paid" rather than naming a means
_UNPAID_WORDS = ("impaye", "non regle", "non paye", "en attente", "a regler", "non", "du")
_SEX_WORDS = {"f": "F", "femme": "F", "feminin": "F", "mme": "F", "madame": "F", "mlle": "F"}
_SEX_WORDS |= {"m": "M", "h": "M", "homme": "M", "masculin": "M", "monsieur": "M", "mr": "M"}
_SINGLE_MARK = re.compile(r"\D*\d+([.,])\d{3}\D*")
_TIME = re.compile(r"(\d{1,2})\s*[:h]\s*(\d{2})?(?::(\d{2}))?")


def text(value: Any) -> str | None:
    """A stripped string or None; numeric cells without decimals print as integers."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = " ".join(str(value).split())
    return s or None


def day(value: Any, mapping: Mapping) -> date | None:
    """A date as the mapping's ``date_format`` says (``auto``: every French form)."""
    if mapping.date_format == "auto" or not isinstance(value, str):
        return fp.parse_date(value)  # typed workbook dates and serials need no pattern
    s = value.strip()
    if not s:
        return None
    try:
        parsed = datetime.strptime(s, mapping.date_format).date()
    except ValueError:
        raise BadValue("bad_date") from None
    return fp.parse_date(parsed)  # same year bounds as every other source


def amount(value: Any, mapping: Mapping) -> Decimal | None:
    """Euros; the mapping's decimal separator settles '1.234' / '1,234' (one mark, 3 digits)."""
    m = _SINGLE_MARK.fullmatch(value.strip()) if isinstance(value, str) else None
    if m is not None and m[1] == mapping.decimal_separator:
        raise BadValue("bad_amount")  # three decimals: a typo, not thousands
    return fp.parse_amount(value)


def clock(value: Any) -> time | None:
    """A start time from a time cell, a day fraction or '14:30' / '14h30' / '9h'."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, time):
        return value.replace(microsecond=0)
    if isinstance(value, float | int) and not isinstance(value, bool) and 0 <= value < 1:
        seconds = round(value * 86400)
        if seconds < 86400:
            return time(seconds // 3600, seconds % 3600 // 60, seconds % 60)
    if isinstance(value, str) and (m := _TIME.fullmatch(value.strip().lower())):
        h, mi, s = int(m[1]), int(m[2] or 0), int(m[3] or 0)
        if h < 24 and mi < 60 and s < 60:
            return time(h, mi, s)
    raise BadValue("bad_time")


def _by_words(folded: str, table: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    for code, words in table:
        if any(folded == w or folded.startswith(w + " ") or folded.startswith(w) for w in words):
            return code
    return None


def _mapped(value: Any, column: str, mapping: Mapping) -> tuple[str, str | None]:
    """(folded cell, code from the mapping's values) — the mapping always wins."""
    folded = normalize_name(text(value))
    return folded, mapping.values.get(column, {}).get(folded)


def status(value: Any, mapping: Mapping) -> str:
    """Consultation status; an unknown word is a BadValue (never guessed as done)."""
    folded, code = _mapped(value, "status", mapping)
    if code or not folded:
        return code or "done"
    found = _by_words(folded, _STATUS_WORDS)
    if found is None:
        raise BadValue("unknown_value")
    return found


def consultation_type(value: Any, mapping: Mapping) -> str:
    """Consultation type; unknown words are ``other`` (the type never rejects a visit)."""
    folded, code = _mapped(value, "consultation_type", mapping)
    return code or (_by_words(folded, _TYPE_WORDS) if folded else None) or "other"


def invoice_status(value: Any, mapping: Mapping) -> str | None:
    """issued / paid / cancelled, None for an empty cell; unknown words are a BadValue."""
    folded, code = _mapped(value, "invoice_status", mapping)
    if code or not folded:
        return code
    found = _by_words(folded, _INVOICE_WORDS)
    if found is None:
        raise BadValue("unknown_value")
    return found


def method(value: Any, mapping: Mapping) -> str | None:
    """Payment means, or None when the cell says the visit is not paid (empty, 'impayé')."""
    folded, code = _mapped(value, "payment_method", mapping)
    if code:
        return None if code == "unpaid" else code
    if not folded or folded in _UNPAID_WORDS or folded.startswith(_UNPAID_WORDS[:5]):
        return None
    return fp.payment_method(text(value))


def sex(value: Any, mapping: Mapping) -> str | None:
    """F, M or None (an unknown word is not worth rejecting a row)."""
    folded, code = _mapped(value, "sex", mapping)
    return code or _SEX_WORDS.get(folded)


def postcode(value: Any) -> str | None:
    """Five digits as text; a postcode typed as a number loses its leading zero in Excel."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        if float(value).is_integer() and 0 < value < 100_000:
            return f"{int(value):05d}"
        return None
    s = text(value)
    return s.replace(" ", "") if s else None


def name(value: Any) -> str | None:
    """A name cell as text; BadValue for something too long to be a name."""
    s = text(value)
    if s is not None and (len(s) > MAX_NAME or not any(c.isalpha() for c in s)):
        raise BadValue("bad_name")
    return s
