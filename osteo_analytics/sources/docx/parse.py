"""Text rules of the Word adapter: identity lines, patient details, visit lines and rows.

Pure functions on strings (no python-docx here), so each convention of
``sources/docx.py`` is tested on its own. Dates, amounts, payment means and names go
through :mod:`.frenchparse`; the motif through ``pseudonymize.motif_category``. No
function returns or keeps free text: a visit line comes back as codes, a date, a time
and an amount, and its words are dropped with the function's locals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from osteo_analytics.pseudonymize.motifs import motif_category
from osteo_analytics.sources import frenchparse as fp

BadValue = fp.BadValue

_DATE = (
    r"\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*(?:\d{4}|\d{2})(?!\d)"  # 15/03/2024, 15.03.24
    r"|\d{4}-\d{1,2}-\d{1,2}(?!\d)"  # ISO
    r"|\d{1,2}(?:er)?\s+[^\W\d_]{3,9}\.?\s+(?:\d{4}|\d{2})(?!\d)"  # 15 mars 2024
)
_WEEKDAY = r"(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+)?"
LEADING_DATE = re.compile(rf"^\s*{_WEEKDAY}({_DATE})", re.IGNORECASE)
_BIRTH = re.compile(
    rf"(?:\b(n[ée]e?)\s+le\s+({_DATE}))|\(\s*({_DATE})\s*\)|[,–—-]\s*({_DATE})\s*$",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^\s*(?:patient(?:e)?|nom|identit[ée])\s*:\s*", re.IGNORECASE)
_NAME_WORD = re.compile(r"[^\W\d_]+(?:['’.\-][^\W\d_]*)*\.?")
# words that make a heading a document title, not a patient's name
_NOT_NAMES = frozenset({
    "fiche", "dossier", "patient", "patiente", "consultation", "consultations", "seance",
    "seances", "antecedents", "suivi", "notes", "observations", "compte", "rendu", "bilan",
    "historique", "osteopathie", "cabinet", "motif", "traitement", "visites", "visite",
    "anamnese",
})  # fmt: skip
_DETAIL = re.compile(
    r"^\s*(adresse|domicile|t[ée]l[ée]?phone|t[ée]l\.?|portable|mobile|e-?mail|courriel|mail"
    r"|praticien(?:ne)?|ost[ée]opathe|n[ée]e?\s+le|date\s+de\s+naissance|ddn|sexe"
    r"|profession|m[ée]decin(?:\s+traitant)?|mutuelle|n°\s*ss|s[ée]curit[ée]\s+sociale)"
    r"\s*:?\s*(.*)$",
    re.IGNORECASE,
)
_POSTCODE = re.compile(r"(?<!\d)(\d{2}\s?\d{3})(?!\d)")
_TIME = re.compile(r"^\s*(?:à\s*)?(\d{1,2})\s*[h:]\s*(\d{2})?(?![\d])", re.IGNORECASE)
# 1 234,50 / 1.234,50 / 55,00 / 55: bounded shapes, so a long run of digits and spaces
# cannot make the search quadratic; frenchparse.parse_amount then reads the match
_AMOUNT = r"(?<![\d.,])(?:\d{1,3}(?:[ \u00a0\u202f.,]\d{3}){1,3}|\d+)(?:[.,]\d{1,2})?(?![\d])"
_FEE_LABELLED = re.compile(
    rf"\b(?:tarif|montant|honoraires?|prix)\s*:?\s*({_AMOUNT})?\s*(?:€|eur(?:os?)?\b)?",
    re.IGNORECASE,
)
_FEE_BARE = re.compile(rf"({_AMOUNT})\s*(?:€|eur(?:os?)?\b)", re.IGNORECASE)
_FREE = re.compile(r"\b(?:gratuit|offert)e?s?\b", re.IGNORECASE)
# folded words
_UNPAID = re.compile(r"\b(?:non regle|pas regle|impaye|a regler|en attente|doit|non paye)e?s?\b")
_PAID = re.compile(r"\b(?:regle|paye|acquitte|encaisse)e?s?\b")
_METHODS = re.compile(
    r"\b(carte bancaire|carte bleue|carte|cb|cheques?|chq|especes?|liquide|virement|vir)\b"
)
_NO_SHOW = re.compile(r"\b(?:absente?|lapin|non honoree?|pas venue?|non venue?)\b")
_CANCELLED = re.compile(r"\b(?:annulee?|annulation|decommandee?)\b")
_URGENT = re.compile(r"\burgen(?:ce|t|te)s?\b")
_HOME = re.compile(r"\bdomicile\b")


@dataclass(frozen=True, slots=True)
class Identity:
    family: str
    first: str
    birth_date: date | None
    sex: str | None


@dataclass(frozen=True, slots=True)
class Details:
    """What a 'Label : value' line gives; everything else on it is dropped."""

    postcode: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    practitioner: str | None = None


@dataclass(frozen=True, slots=True)
class VisitLine:
    consulted_on: date
    start_time: time | None
    status: str
    ctype: str
    motif: str | None
    fee: Decimal | None
    paid: bool
    method: str | None


def leading_date(text: str) -> str | None:
    """The date-shaped text a line starts with ('15/03/2024', 'lundi 15 mars 2024'), or None."""
    m = LEADING_DATE.match(text)
    if m is None:
        return None
    words = m[1].split()
    if len(words) == 3 and fp.month_number(words[1]) is None:
        return None  # "12 séances 2024": a number, not a date
    return m[0]


def identity(text: str) -> Identity | None:
    """'DUPONT Marie – née le 03/04/1981', 'Dupont Marie (03/04/1981)', 'DUPONT Marie'.

    None unless the text is a name of two to six words (letters, hyphens, apostrophes),
    optionally followed by a birth date: a title like 'Fiche patient' is not a name.
    """
    text = _LABEL.sub("", " ".join(text.replace("_", " ").split()))
    birth: date | None = None
    sex: str | None = None
    m = _BIRTH.search(text)
    if m is not None:
        try:
            birth = fp.parse_date(m[2] or m[3] or m[4])
        except BadValue:
            return None
        if m[1]:
            sex = "F" if fp.fold(m[1]) == "nee" else "M"
        text = text[: m.start()]
    text = text.strip(" ,–—-:(")
    words = text.split()
    if not 2 <= len(words) <= 6 or not all(_NAME_WORD.fullmatch(w) for w in words):
        return None
    if any(fp.fold(w) in _NOT_NAMES for w in words):
        return None
    name = fp.split_name(text)
    if name is None or not name.first or not any(c.isalpha() for c in name.family):
        return None
    return Identity(name.family, name.first, birth, sex or name.sex)


def details(text: str) -> Details | None:
    """A 'Adresse : … 35000 Rennes', 'Née le …', 'Praticien : …' line, or None."""
    m = _DETAIL.match(text)
    if m is None:
        return None
    label, value = fp.fold(m[1]), m[2].strip()
    if label in ("adresse", "domicile"):
        pc = _POSTCODE.findall(value)
        return Details(postcode=pc[-1].replace(" ", "") if pc else None)  # street numbers first
    if label.startswith(("ne", "date de naissance", "ddn")):
        d = leading_date(value)
        try:
            birth = fp.parse_date(d.strip()) if d else None
        except BadValue:
            birth = None
        sex = {"nee le": "F", "ne le": "M"}.get(label)
        return Details(birth_date=birth, sex=sex)
    if label == "sexe":
        return Details(
            sex={"f": "F", "femme": "F", "m": "M", "h": "M", "homme": "M"}.get(fp.fold(value))
        )
    if label.startswith(("praticien", "osteopathe")):
        return Details(practitioner=" ".join(value.split())[:100] or None)
    return Details()  # phone, email, profession...: recognised and dropped


def visit_line(
    text: str, fee_cell: str | None = None, payment_cell: str | None = None
) -> VisitLine:
    """Parse a paragraph (or a table row's cells) that starts with a date.

    ``fee_cell`` / ``payment_cell`` come from a table's Tarif / Règlement columns. Raises
    BadValue('bad_date' / 'bad_amount' / 'bad_time') when a part is there but unreadable.
    """
    head = leading_date(text)
    if head is None:
        raise BadValue("bad_date")
    consulted_on = fp.parse_date(LEADING_DATE.match(text)[1].strip())  # type: ignore[index]
    if consulted_on is None:
        raise BadValue("bad_date")
    rest = text[len(head) :].lstrip(" :-–—,.;")
    start: time | None = None
    if (tm := _TIME.match(rest)) is not None:
        hour, minute = int(tm[1]), int(tm[2] or 0)
        if hour > 23 or minute > 59:
            raise BadValue("bad_time")
        start = time(hour, minute)
        rest = rest[tm.end() :]
    fee, rest = _fee(rest, fee_cell)
    folded = fp.fold(f"{rest} {payment_cell or ''}")
    status = "no_show" if _NO_SHOW.search(folded) else "done"
    status = "cancelled" if _CANCELLED.search(folded) else status
    ctype = "urgent" if _URGENT.search(folded) else "home" if _HOME.search(folded) else "other"
    method_word = _METHODS.search(folded)
    paid = (
        fee is not None and not _UNPAID.search(folded) and bool(_PAID.search(folded) or method_word)
    )
    method = fp.payment_method(method_word[1]) if paid and method_word else None
    # what is left once dates, fee, payment and status words are gone is the motif
    motif_text = fp.fold(rest)
    for words in (_UNPAID, _PAID, _METHODS, _NO_SHOW, _CANCELLED, _URGENT, _HOME):
        motif_text = words.sub(" ", motif_text)
    return VisitLine(
        consulted_on, start, status, ctype, motif_category(motif_text), fee, paid, method
    )


def _fee(rest: str, fee_cell: str | None) -> tuple[Decimal | None, str]:
    """(fee, line without the fee clause); a fee label without a readable amount is bad."""
    if fee_cell is not None and fee_cell.strip():
        if _FREE.search(fee_cell):
            return None, rest
        value = fp.parse_amount(fee_cell)
        if value is not None and value < 0:
            raise BadValue("bad_amount")
        return (value or None), rest
    m = _FEE_LABELLED.search(rest) or _FEE_BARE.search(rest)
    if m is None:
        return None, rest
    if m[1] is None:
        if _FREE.search(rest[m.end() :]):
            return None, rest[: m.start()] + rest[m.end() :]
        raise BadValue("bad_amount")
    value = fp.parse_amount(m[1].strip())
    if value is not None and value < 0:
        raise BadValue("bad_amount")
    return (value or None), rest[: m.start()] + " " + rest[m.end() :]
