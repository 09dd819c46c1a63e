"""What a receipts ledger looks like: header labels, title rows, total rows.

Everything here works on folded text (:func:`frenchparse.fold`: lower case, no accents,
punctuation as spaces), so "N° Facture", "n° facture" and "No facture" are one label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osteo_analytics.sources.base import PAYMENT_METHODS
from osteo_analytics.sources.frenchparse import fold, month_number

# Logical column → folded header labels people use for it. Order of the roles matters
# only for documentation; a label belongs to exactly one role.
ALIASES: dict[str, tuple[str, ...]] = {
    "date": (
        "date",
        "dates",
        "jour",
        "date de seance",
        "date seance",
        "date de la seance",
        "date d encaissement",
        "date encaissement",
        "date de paiement",
        "date paiement",
        "date de reglement",
        "date reglement",
        "date de consultation",
        "date consultation",
        "date de l acte",
    ),
    "number": (
        "n",
        "no",
        "num",
        "numero",
        "facture",
        "n facture",
        "no facture",
        "n de facture",
        "no de facture",
        "num facture",
        "numero facture",
        "numero de facture",
        "facture n",
        "n note d honoraires",
        "note d honoraires",
        "n recu",
        "n de recu",
    ),
    "patient": (
        "patient",
        "patients",
        "patiente",
        "patient e",
        "nom prenom",
        "nom et prenom",
        "nom prenom du patient",
        "nom et prenom du patient",
        "prenom nom",
        "nom du patient",
        "identite",
        "client",
    ),
    "family": ("nom", "nom de famille", "nom patient", "nom d usage"),
    "first": ("prenom", "prenom patient", "prenom du patient"),
    "amount": (
        "montant",
        "montant ttc",
        "montant eur",
        "montant en euros",
        "montant encaisse",
        "montant regle",
        "montant percu",
        "honoraires",
        "honoraire",
        "recette",
        "recettes",
        "encaissement",
        "somme",
        "somme percue",
        "tarif",
    ),
    "method": (
        "mode de reglement",
        "mode reglement",
        "reglement",
        "mode de paiement",
        "mode paiement",
        "paiement",
        "moyen de paiement",
        "moyen de reglement",
        "type de paiement",
        "type de reglement",
        "mode",
    ),
    "practitioner": ("praticien", "praticienne", "osteopathe", "therapeute", "intervenant"),
    "act": (
        "acte",
        "actes",
        "type",
        "type d acte",
        "type de seance",
        "type de consultation",
        "nature",
        "prestation",
        "consultation",
    ),
    # In a ledger with one amount column per payment method: the row's total, checked
    # against the methods. In a single-amount ledger it may stand for the amount column.
    "total": (
        "total",
        "totaux",
        "total ttc",
        "total eur",
        "total euros",
        "total encaisse",
        "total regle",
        "total percu",
        "total recette",
        "total recettes",
        "total jour",
        "total ligne",
        "montant total",
    ),
    # recognised so that they never count as unknown, and never read: free text
    "notes": (
        "observations",
        "observation",
        "remarque",
        "remarques",
        "commentaire",
        "commentaires",
        "notes",
        "note",
        "motif",
    ),
}
_ROLE_OF = {alias: role for role, aliases in ALIASES.items() for alias in aliases}
# Canonical payment method → folded labels of a column holding the amounts paid that way
# (the livre de recettes layout Date | Patient | Chèque | Espèces | CB | Virement | Total).
METHOD_COLUMNS: dict[str, tuple[str, ...]] = {
    "cb": ("cb", "carte", "cartes", "carte bancaire", "carte bleue", "tpe"),
    "cheque": ("cheque", "cheques", "chq", "cheq"),
    "especes": ("especes", "espece", "esp", "liquide", "liquides", "cash", "numeraire"),
    "virement": ("virement", "virements", "vir", "vrt", "virt", "virement bancaire"),
    "autre": (
        "autre",
        "autres",
        "autre mode",
        "autres modes",
        "divers",
        "ancv",
        "cheque vacances",
        "cheques vacances",
        "cesu",
    ),
}
_METHOD_OF = {alias: method for method, aliases in METHOD_COLUMNS.items() for alias in aliases}
# Payment ids follow this order within a split row, whatever the order of the columns.
METHOD_ORDER = PAYMENT_METHODS
# How far down a sheet the header may be (title rows, blank rows, a logo...).
HEADER_SEARCH_ROWS = 30


@dataclass(frozen=True, slots=True)
class Layout:
    """Column index of each logical field found in a header row (None when absent).

    Two layouts: a single ``amount`` column (with a 'Mode de règlement' ``method``
    column or not), or one amount column per payment method (``methods`` not empty),
    where ``amount`` is the row's Total column, checked against the methods, if any.
    """

    width: int
    date: int
    amount: int | None
    patient: int | None
    family: int | None
    first: int | None
    number: int | None
    method: int | None
    practitioner: int | None
    act: int | None
    labels: tuple[str, ...]
    # (canonical method, column index) of each per-method amount column, in column order
    methods: tuple[tuple[str, int], ...] = ()

    @property
    def by_method(self) -> bool:
        """True for a ledger with one amount column per payment method."""
        return bool(self.methods)

    @property
    def money_columns(self) -> frozenset[int]:
        """Every column that holds an amount (amount or Total, and the method columns)."""
        found = {i for _, i in self.methods}
        return frozenset(found if self.amount is None else found | {self.amount})

    def label(self, index: int | None, fallback: str) -> str:
        """The header label of a column, for quarantine reports."""
        return self.labels[index] if index is not None else fallback


def _cell_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def header_layout(cells: Sequence[Any]) -> Layout | None:
    """The layout if ``cells`` is a ledger header row: a date, money and a patient.

    Money is an amount column ('Montant', 'Honoraires'; 'Total' when there is no other)
    or one column per payment method ('Chèque', 'Espèces', 'CB', 'Virement', 'Autre'...,
    see :data:`METHOD_COLUMNS`). With method columns, the 'Total' column (else the
    amount column) is the one checked against them, and a 'Mode de règlement' column
    is not read: the columns say how each amount was paid.

    At least half of the filled cells must be known ledger labels (extra columns such as
    'Banque' or 'N° de chèque' are fine; another software's export is not). The patient
    is one column ('Patient', 'Nom Prénom') or a 'Nom' column (with or without 'Prénom').
    The first column holding a label wins when a label repeats; every method column is
    read, even two for one method (their amounts are two payments). A single method
    column next to a 'Mode de règlement' column is not one (a 'Chèque' column there holds
    cheque numbers): the sheet has the single-amount layout.
    """
    found: dict[str, int] = {}
    methods: list[tuple[str, int]] = []
    known = unknown = 0
    for i, value in enumerate(cells):
        text = _cell_text(value)
        if not text:
            continue
        folded = fold(text)
        role = _ROLE_OF.get(folded)
        if role is not None:
            known += 1
            found.setdefault(role, i)
        elif folded in _METHOD_OF:
            known += 1
            methods.append((_METHOD_OF[folded], i))
        else:
            unknown += 1
    # A ledger's header is mostly ledger words; software exports (LibreOsteo's 40 columns
    # of ids, addresses, clinical fields) merely contain a date, an amount and a name.
    if "date" not in found or unknown > known:
        return None
    if len(methods) == 1 and "method" in found:
        methods = []  # 'Mode de règlement' + a 'Chèque' column: the cheque's number, not euros
    if methods:
        amount = found.get("total", found.get("amount"))
    elif "amount" in found or "total" in found:
        amount = found.get("amount", found.get("total"))
    else:
        return None
    if "patient" not in found and "family" not in found:
        return None
    return Layout(
        width=len(cells),
        date=found["date"],
        amount=amount,
        patient=found.get("patient"),
        family=found.get("family") if "patient" not in found else None,
        first=found.get("first") if "patient" not in found else None,
        number=found.get("number"),
        method=found.get("method") if not methods else None,
        practitioner=found.get("practitioner"),
        act=found.get("act"),
        labels=tuple(_cell_text(c) for c in cells),
        methods=tuple(methods),
    )


# --- total rows ----------------------------------------------------------------------

# First word(s) of a total row's label → the rule it is counted under.
_TOTAL_KEYWORDS = (
    ("sous total", "subtotal_row"),
    ("total", "total_row"),
    ("totaux", "total_row"),
    ("report a nouveau", "running_total_row"),
    ("a reporter", "running_total_row"),
    ("report", "running_total_row"),
    ("cumul", "running_total_row"),
    ("solde", "running_total_row"),
)
# Words that may follow the keyword in a total label ("Total du mois de janvier 2024").
_PERIOD_WORDS = {
    "du",
    "de",
    "des",
    "d",
    "la",
    "le",
    "l",
    "au",
    "a",
    "en",
    "jour",
    "journee",
    "journalier",
    "semaine",
    "hebdomadaire",
    "mois",
    "mensuel",
    "trimestre",
    "trimestriel",
    "annee",
    "annuel",
    "exercice",
    "general",
    "generale",
    "cumule",
    "precedent",
    "precedente",
    "page",
    "recettes",
    "encaissements",
    "ttc",
    "eur",
    "t1",
    "t2",
    "t3",
    "t4",
}
# A total over a part of the period (day, week, month, quarter) is a subtotal.
_SUB_PERIOD_WORDS = {"jour", "journee", "journalier", "semaine", "hebdomadaire", "mois"}
_SUB_PERIOD_WORDS |= {"mensuel", "trimestre", "trimestriel", "t1", "t2", "t3", "t4"}


_TOTAL_HINT = re.compile(r"\s*(?:sous|tota|report|[aà]\s*report|cumul|solde)", re.IGNORECASE)


def total_rule(label: str, *, strict: bool) -> str | None:
    """Rule name if ``label`` names a total row ('Total janvier', 'Sous-total', 'Report').

    ``strict``: the whole label must be a total label (keyword + period words, dates,
    numbers), as when the row also holds a date. Otherwise the label only has to start
    with the keyword ("TOTAL RECETTES JANVIER : voir relevé").
    """
    if _TOTAL_HINT.match(label) is None:  # cheap test first: called on every text cell
        return None
    words = fold(label).split()
    for keyword, rule in _TOTAL_KEYWORDS:
        kw = keyword.split()
        if words[: len(kw)] != kw:
            continue
        rest = words[len(kw) :]
        if strict and not all(_is_period_word(w) for w in rest):
            return None
        if rule == "total_row" and any(w in _SUB_PERIOD_WORDS or month_number(w) for w in rest):
            return "subtotal_row"
        return rule
    return None


def _is_period_word(word: str) -> bool:
    return word in _PERIOD_WORDS or word.isdigit() or month_number(word) is not None


# --- title rows ------------------------------------------------------------------------

_DOCTOR = re.compile(r"\b(?:Dr|Docteur|Doctoresse)\b\.?\s+(.+)", re.IGNORECASE)
_SEGMENT_SPLIT = re.compile(r"\s+[-–—|/]\s+|[–—|\n]")
_PROFESSION_TAIL = re.compile(
    r"[,(]?\s*\b(?:osteopathe|ostéopathe|d\.?\s*o\.?|mko|kine\w*)\b.*$", re.IGNORECASE
)
# Words that make a title segment something other than a person's name.
_NOT_A_NAME = {
    "livre",
    "recettes",
    "recette",
    "journal",
    "registre",
    "cabinet",
    "centre",
    "maison",
    "osteopathie",
    "sante",
    "annee",
    "exercice",
    "total",
    "encaissements",
    "honoraires",
    "page",
    "mois",
}
_NAME_WORD = re.compile(r"[A-ZÀ-ÖØ-Þ][\w'’-]*|(?:de|du|des|le|la|van|von|d'|d’)", re.UNICODE)


def practitioner_in_title(text: str) -> str | None:
    """A practitioner's name in a title row, or None.

    "Livre des recettes 2024 – Dr Marie Martin" → "Marie Martin" (after Dr/Docteur);
    otherwise a dash- or bar-separated part that reads as a person's name: two to four
    capitalised words, no digit, no month, no word like 'recettes' or 'cabinet'
    ("Recettes 2024 - Marie MARTIN, ostéopathe D.O." → "Marie MARTIN").
    """
    m = _DOCTOR.search(text)
    if m:
        name = _clean_name(re.split(r"[,(]", _SEGMENT_SPLIT.split(m[1])[0])[0])
        if name:
            return name
    for segment in _SEGMENT_SPLIT.split(text):
        name = _clean_name(segment)
        if name:
            return name
    return None


def _clean_name(segment: str) -> str | None:
    name = " ".join(_PROFESSION_TAIL.sub("", segment).split()).strip(" ,;:.")
    words = name.split()
    if not 2 <= len(words) <= 4:
        return None
    if any(fold(w) in _NOT_A_NAME or month_number(w) for w in words):
        return None
    if not all(_NAME_WORD.fullmatch(w) for w in words) or not words[0][0].isupper():
        return None
    return name
