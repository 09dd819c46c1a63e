"""Parsers for values as French practitioners type them in spreadsheets and CSV files.

Shared by the ledger, generic and Word adapters. Every parser takes a raw cell (``str``,
``int``, ``float``, ``date``/``datetime`` or ``None``, as csv, openpyxl or python-calamine
give it), returns ``None`` for an empty cell and raises :class:`BadValue` (carrying a
quarantine rule name, never the value) for a cell it cannot read. None of them ever
guesses silently: an ambiguous value is a :class:`BadValue`, so the row is quarantined and
the practitioner sees why.

Rules, in short (each function's docstring has the details):

- amounts: decimal comma or point, spaces / U+00A0 / U+202F / apostrophes as thousands
  separators, ``€`` or ``EUR`` anywhere, ``-55,00``, ``55,00-`` and ``(55,00)`` negatives;
- dates: ``dd/mm/yyyy`` (also ``.`` or ``-``), ``dd/mm/yy`` (00-29 → 20xx, 30-99 → 19xx, as
  Excel does), ISO ``yyyy-mm-dd``, ``15 mars 2024`` / ``1er févr. 24`` / ``lundi 15 mars``,
  real Excel dates and bare Excel serial numbers; always day first (French order);
- payment methods: a fixed vocabulary (CB, chèque, espèces, virement), the rest ``autre``;
- names: in "DUPONT Jean", "Jean DUPONT" or "Dupont, Jean" the upper-case words are the
  family name (:func:`split_name`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "BadValue",
    "PersonName",
    "excel_serial_to_date",
    "fold",
    "month_number",
    "parse_amount",
    "parse_date",
    "parse_period",
    "payment_method",
    "split_name",
]

CENT = Decimal("0.01")
# Amounts beyond this are typing accidents (a date or a phone number in the amount column).
MAX_AMOUNT = Decimal("1e9")
# Excel's own range of serial dates: 1900-01-01 .. 9999-12-31; 1899-12-30 is day 0 because
# Excel counts a 29 February 1900 that never existed (serials from 61 on are right).
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2_958_466
# Years accepted at all; the data contracts narrow it further (1990 .. next year).
_MIN_YEAR, _MAX_YEAR = 1900, 2100


class BadValue(ValueError):
    """A cell that cannot be parsed. ``rule`` names the quarantine rule (``bad_date``...)."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


def fold(text: str) -> str:
    """Lower-case, accents removed, punctuation → single spaces: for matching keywords.

    ``"N° Facture"`` → ``"n facture"``, ``"Date d'encaissement"`` → ``"date d encaissement"``.
    """
    if text.isascii():  # fast path: most cells; NFKD and casefold are identities on ASCII
        return _NON_WORD.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_ish = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", ascii_ish).strip()


_NON_WORD = re.compile(r"[\W_]+")


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- amounts ---------------------------------------------------------------------------

# Everything that may surround or split a number in a French amount cell.
_CURRENCY = re.compile(r"€|eur(?:os?)?|ttc", re.IGNORECASE)
_GROUPING = str.maketrans("", "", " \u00a0\u202f\u2009\u2007'\u2019")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def parse_amount(value: object) -> Decimal | None:
    """Euros as an exact ``Decimal`` with two places, or None for an empty cell.

    Numbers from a workbook are taken as they are (rounded half-up to the cent: a float
    sum like 64.99999999 is 65.00). Text accepts ``1 234,50 €``, ``1.234,50``, ``1,234.50``,
    ``55``, ``55.5``, ``-55,00``, ``55,00-``, ``(55,00)`` and ``− 55`` (U+2212). With a single
    kind of separator, one followed by exactly three digits groups thousands (``1.234`` is
    1234, French style), otherwise it is the decimal mark. Raises ``BadValue('bad_amount')``
    for anything else (words, two numbers, more than two decimals, |amount| ≥ 1e9).
    """
    if isinstance(value, bool):
        raise BadValue("bad_amount")
    if isinstance(value, int | float | Decimal):
        try:
            # str(float) is the shortest repr (47.5 → '47.5'): Decimal(str()) adds no noise
            d = Decimal(str(value))
        except InvalidOperation:
            raise BadValue("bad_amount") from None
        return _checked(d)
    if _is_empty(value):
        return None
    if not isinstance(value, str):
        raise BadValue("bad_amount")
    text = _CURRENCY.sub("", value).translate(_GROUPING).replace("\u2212", "-")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.startswith(("-", "+")):
        negative, text = negative ^ (text[0] == "-"), text[1:]
    elif text.endswith("-"):  # accounting style: 55,00-
        negative, text = not negative, text[:-1]
    if not text or _NUMBER.fullmatch(text) is None:
        raise BadValue("bad_amount")
    d = Decimal(_decimal_text(text))
    return _checked(-d if negative else d)


def _decimal_text(text: str) -> str:
    """'1.234,50' → '1234.50'; BadValue when the separators do not make sense."""
    kinds = {c for c in text if c in ".,"}
    if not kinds:
        return text
    if len(kinds) == 2:  # both: the last one is the decimal mark, the other groups
        last = max(text.rfind("."), text.rfind(","))
        group = "," if text[last] == "." else "."
        _check_groups(text[:last].split(group))
        return f"{text[:last].replace(group, '')}.{text[last + 1 :]}"
    mark = kinds.pop()
    parts = text.split(mark)
    if len(parts) > 2:  # 1.234.567: only thousands groups repeat
        _check_groups(parts)
        return "".join(parts)
    if len(parts[1]) == 3 and mark == ".":  # 1.234 is a French thousand; 1,234 is ambiguous
        _check_groups(parts)
        return "".join(parts)
    if len(parts[1]) > 2:
        raise BadValue("bad_amount")
    return f"{parts[0]}.{parts[1]}"


def _check_groups(parts: list[str]) -> None:
    """Thousands groups: 1-3 digits (no leading zero) then groups of exactly three."""
    head, rest = parts[0], parts[1:]
    if not 1 <= len(head) <= 3 or (head[0] == "0" and rest) or any(len(g) != 3 for g in rest):
        raise BadValue("bad_amount")


def _checked(d: Decimal) -> Decimal:
    if not d.is_finite() or abs(d) >= MAX_AMOUNT:
        raise BadValue("bad_amount")
    q = d.quantize(CENT, rounding=ROUND_HALF_UP)
    if q != d and abs(q - d) >= Decimal("0.000001"):
        # more than two decimals typed by hand (55,125) is a typo, not a float artefact
        raise BadValue("bad_amount")
    return q


# --- dates -----------------------------------------------------------------------------

# French month names, folded; abbreviations as Excel and people write them.
_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        ("janvier", "janv", "jan"),
        ("fevrier", "fevr", "fev", "fevrie"),
        ("mars", "mar"),
        ("avril", "avr", "av"),
        ("mai",),
        ("juin",),
        ("juillet", "juil", "jul"),
        ("aout", "aou"),
        ("septembre", "sept", "sep"),
        ("octobre", "oct"),
        ("novembre", "nov"),
        ("decembre", "dec"),
    ],
    start=1,
):
    for _name in _names:
        _MONTHS[_name] = _number
_WEEKDAYS = {"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"}
_WEEKDAYS |= {"lun", "mar", "mer", "jeu", "ven", "sam", "dim"}

_NUMERIC_DATE = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4}|\d{2})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_TIME_TAIL = re.compile(r"(?:\s+|T)\d{1,2}[:h]\d{2}(?::\d{2}(?:\.\d+)?)?\s*$")
_SERIAL_TEXT = re.compile(r"\d{5}(?:[.,]\d+)?")


def month_number(word: str) -> int | None:
    """1-12 for a French month name or abbreviation (any case, with or without accents)."""
    return _MONTHS.get(fold(word).rstrip("."))


def excel_serial_to_date(serial: float) -> date:
    """The calendar day of an Excel serial number (1900 date system, time part dropped)."""
    if not 1 <= serial < _EXCEL_MAX_SERIAL:
        raise BadValue("bad_date")
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def parse_date(value: object, *, year: int | None = None) -> date | None:
    """A calendar day, or None for an empty cell; day before month, always.

    Accepts ``date``/``datetime`` cells, Excel serial numbers (a number in a date column,
    or five digits typed as text), ``15/03/2024``, ``15.03.24``, ``15-03-2024``,
    ``2024-03-15`` (a trailing time is ignored), ``15 mars 2024``, ``1er févr. 24``,
    ``lundi 15 mars 2024`` and ``15-mars-24``. ``year`` completes a date written without
    one (``15 mars``, ``15/03``), e.g. from the sheet name; without it such dates are bad.
    Raises ``BadValue('bad_date')`` otherwise, or for a year outside 1900-2099.
    """
    if isinstance(value, datetime):
        return _checked_day(value.date())
    if isinstance(value, date):
        return _checked_day(value)
    if isinstance(value, bool):
        raise BadValue("bad_date")
    if isinstance(value, int | float):
        return _checked_day(excel_serial_to_date(value))
    if _is_empty(value):
        return None
    if not isinstance(value, str):
        raise BadValue("bad_date")
    text = _TIME_TAIL.sub("", value.strip())
    if _SERIAL_TEXT.fullmatch(text):  # a serial pasted as text from another workbook
        return _checked_day(excel_serial_to_date(float(text.replace(",", "."))))
    if m := _ISO_DATE.fullmatch(text):
        return _make(int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC_DATE.fullmatch(text):
        return _make(_full_year(m[3]), int(m[2]), int(m[1]))
    if year is not None and (m := re.fullmatch(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})", text)):
        return _make(year, int(m[2]), int(m[1]))
    return _worded_date(text, year)


def _worded_date(text: str, year: int | None) -> date:
    """'15 mars 2024', '1er févr. 24', 'lundi 15 mars', '15-mars-24'."""
    words = fold(text.replace("-", " ")).split()
    if words and words[0] in _WEEKDAYS:
        words = words[1:]
    if len(words) not in (2, 3):
        raise BadValue("bad_date")
    day_word = words[0].removesuffix("er")  # "1er"
    month = _MONTHS.get(words[1])
    if not day_word.isdigit() or month is None:
        raise BadValue("bad_date")
    if len(words) == 3:
        if not words[2].isdigit() or len(words[2]) not in (2, 4):
            raise BadValue("bad_date")
        year = _full_year(words[2])
    if year is None:
        raise BadValue("bad_date")
    return _make(year, month, int(day_word))


def _full_year(text: str) -> int:
    """Two-digit years pivot as in Excel: 00-29 → 2000-2029, 30-99 → 1930-1999."""
    y = int(text)
    if len(text) == 2:
        return 2000 + y if y < 30 else 1900 + y
    return y


def _make(year: int, month: int, day: int) -> date:
    try:
        return _checked_day(date(year, month, day))
    except ValueError:
        raise BadValue("bad_date") from None


def _checked_day(d: date) -> date:
    if not _MIN_YEAR <= d.year < _MAX_YEAR:
        raise BadValue("bad_date")
    return d


def parse_period(text: str) -> tuple[int | None, int | None]:
    """(year, month) named by a sheet or title: 'Janvier 2024', 'janv. 24', '01-2024', '2024'.

    Either part is None when absent; (None, None) when the text names no period. Used to
    complete dates written without a year and to tell month sheets from other sheets.
    """
    words = fold(text).split()
    year = month = None
    for i, w in enumerate(words):
        if w in _MONTHS and month is None:
            month = _MONTHS[w]
            nxt = words[i + 1] if i + 1 < len(words) else ""
            if nxt.isdigit() and len(nxt) == 2:  # "janv. 24"
                year = _full_year(nxt)
        elif w.isdigit() and len(w) == 4 and _MIN_YEAR <= int(w) < _MAX_YEAR:
            year = int(w)
    if month is None:
        numeric = re.fullmatch(r"(\d{1,2})[-/._ ](\d{4})|(\d{4})[-/._ ](\d{1,2})", text.strip())
        if numeric:
            m, y = (numeric[1], numeric[2]) if numeric[1] else (numeric[4], numeric[3])
            if 1 <= int(m) <= 12:
                month, year = int(m), int(y)
    return year, month


# --- payment methods --------------------------------------------------------------------

# Folded words (or word pairs) → canonical method. Anything else is "autre".
_METHOD_WORDS = {
    "cb": "cb",
    "carte": "cb",
    "carte bancaire": "cb",
    "carte bleue": "cb",
    "cbl": "cb",
    "tpe": "cb",
    "sans contact": "cb",
    "cheque": "cheque",
    "cheques": "cheque",
    "chq": "cheque",
    "ch": "cheque",
    "cheq": "cheque",
    "especes": "especes",
    "espece": "especes",
    "esp": "especes",
    "liquide": "especes",
    "liquides": "especes",
    "cash": "especes",
    "numeraire": "especes",
    "virement": "virement",
    "virements": "virement",
    "vir": "virement",
    "vrt": "virement",
    "virt": "virement",
    "sepa": "virement",
    "virement bancaire": "virement",
}
# Means that look like one of the above but are not: kept apart as "autre".
_OTHER_MEANS = ("vacances", "ancv", "cadeau", "cesu")


def payment_method(value: object) -> str:
    """Canonical means of payment: ``cb``, ``cheque``, ``especes``, ``virement`` or ``autre``.

    'CB', 'Carte', 'Carte bancaire' → cb; 'Chèque', 'Chq', 'CHQ' → cheque; 'Espèces', 'Esp',
    'Liquide' → especes; 'Virement', 'Vir', 'VRT' → virement, judged on the first word(s)
    ("CB sans contact", "Chèque n° 1234567" are fine). Chèques-vacances, CESU and gift
    cheques are not bank cheques: ``autre``. An empty cell or any other word is ``autre``:
    the receipt is real, only its means is unknown, so it is never a reason to reject a row.
    """
    if _is_empty(value) or not isinstance(value, str):
        return "autre"
    words = fold(value).split()
    if any(w in _OTHER_MEANS for w in words):
        return "autre"
    for n in (2, 1):
        method = _METHOD_WORDS.get(" ".join(words[:n]))
        if method is not None:
            return method
    return "autre"


# --- names -----------------------------------------------------------------------------

# Civilities people put before a name; they give the sex and are not part of the name.
_CIVILITIES = {
    "m": "M",
    "mr": "M",
    "monsieur": "M",
    "mme": "F",
    "madame": "F",
    "mlle": "F",
    "melle": "F",
    "mademoiselle": "F",
}
_TITLES = {"dr", "docteur", "pr"}
# Lower-case particles that belong to an upper-case family name just after them.
_PARTICLES = {"de", "du", "des", "d", "le", "la", "van", "von", "der", "di", "da", "del"}
_PARTICLE_PREFIX = re.compile(r"^(d'|d’)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PersonName:
    """A name split into family and first name; ``sex`` from a civility ('M.', 'Mme')."""

    family: str
    first: str
    sex: str | None = None


def _is_upper_word(word: str) -> bool:
    if "." in word:  # an initial ('J.-P.') is not a family name
        return False
    letters = [c for c in _PARTICLE_PREFIX.sub("", word) if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def split_name(value: object) -> PersonName | None:
    """Split one patient cell into family and first name, or None if it holds no name.

    The rule, in order:

    1. A leading civility ('M.', 'Mme', 'Madame'...) is dropped; it gives ``sex``.
    2. 'Dupont, Jean' (a comma): family name before it, first name after.
    3. Otherwise the upper-case words (two letters or more) are the family name, whether
       first ('DUPONT Jean-Pierre', 'DA COSTA Alex') or last ('Jean DUPONT'); lower-case
       particles just before them belong to it ('Jean de LA FONTAINE' → 'de LA FONTAINE').
       When upper-case words appear in two runs, the first run is the family name.
    4. No upper-case word, or only upper-case words ('Dupont Jean', 'DUPONT JEAN'): the
       first word is the family name and the rest the first name (ledgers list patients
       family name first, as they are filed).

    A single word is a family name with an empty first name. A cell without any letter
    (a number, punctuation) is not a name: None.
    """
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    if not any(c.isalpha() for c in text):
        return None
    words = text.split(" ")
    sex = None
    while words and fold(words[0]) in _CIVILITIES | dict.fromkeys(_TITLES) and len(words) > 1:
        sex = _CIVILITIES.get(fold(words[0]), sex)
        words = words[1:]
    text = " ".join(words)
    if "," in text:
        family, _, first = text.partition(",")
        family, first = family.strip(), " ".join(first.replace(",", " ").split())
        if family:
            return PersonName(family, first, sex)
        text = first
        words = text.split(" ")
    upper = [_is_upper_word(w) for w in words]
    if any(upper) and not all(upper):
        start = upper.index(True)
        end = start
        while end < len(words) and upper[end]:
            end += 1
        while start > 0 and fold(words[start - 1]) in _PARTICLES:
            start -= 1
        family = " ".join(words[start:end])
        first = " ".join(words[:start] + words[end:])
        return PersonName(family, first, sex)
    return PersonName(words[0], " ".join(words[1:]), sex)
