"""Draft a mapping file from a spreadsheet's headers (``osteo import --suggest-mapping``).

Each header is compared with French synonyms of every canonical column, accent- and
case-insensitively (``pseudonymize.normalize_name``), after dropping filler words
("de", "N°", "TTC"...). Exact matches are taken as is; near matches (difflib ratio,
or a synonym contained in a longer header) are taken with a ``# à vérifier`` comment;
the rest become ``drop``. Headers that hold contact details or clinical notes are always
``drop``: the adapter must never read them. The draft is a starting point that the
practitioner reviews, never something imported blindly.
"""

from __future__ import annotations

import json
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from osteo_analytics.errors import InputError
from osteo_analytics.pseudonymize.primitives import normalize_name
from osteo_analytics.sources import files
from osteo_analytics.sources.generic.files import HEADER_SEARCH_ROWS, open_spreadsheet
from osteo_analytics.sources.generic.mapping import COLUMNS, DROP, FORMAT_TAG, Mapping

SURE = 0.9
LIKELY = 0.7
_FILLER = frozenset({"de", "du", "des", "la", "le", "les", "d", "l", "n", "no", "ttc", "eur"})
_FILLER |= {"euros", "en", "a", "au", "par", "the"}

SYNONYMS: dict[str, tuple[str, ...]] = {
    "family_name": ("nom", "nom famille", "nom patient", "nom usage", "family name"),
    "first_name": ("prenom", "prenom patient", "first name"),
    "full_name": ("patient", "nom prenom", "patiente", "client", "identite"),
    "birth_date": ("date naissance", "naissance", "ne le", "nee le", "ddn", "ne e le"),
    "sex": ("sexe", "genre", "civilite", "h f", "f h", "m f"),
    "postcode": ("code postal", "cp", "cpostal"),
    "registered_on": ("date creation", "cree le", "inscrit le", "date inscription"),
    "practitioner": ("praticien", "osteopathe", "therapeute", "praticienne", "osteo"),
    "consulted_on": ("date", "date seance", "date consultation", "date rdv", "jour", "seance"),
    "start_time": ("heure", "heure debut", "heure rdv", "horaire"),
    "status": ("statut", "etat", "statut seance", "presence"),
    "consultation_type": ("type", "type seance", "type consultation", "acte"),
    "motif": ("motif", "motif consultation", "raison", "plainte", "motif seance"),
    "invoice_number": ("facture", "numero facture", "num facture", "numero", "ref facture"),
    "amount": ("montant", "tarif", "honoraires", "prix", "somme", "total", "montant facture"),
    "issued_on": ("date facture", "facture le", "date facturation"),
    "invoice_status": ("statut facture", "etat facture", "paye", "regle"),
    "payment_method": (
        "reglement",
        "mode paiement",
        "mode reglement",
        "paiement",
        "moyen paiement",
    ),
    "paid_on": ("date reglement", "date paiement", "date encaissement", "encaisse le", "paye le"),
    "paid_amount": ("montant regle", "montant encaisse", "encaisse", "montant paye", "recu"),
}
# identifying or clinical headers: never read, whatever else they resemble
NEVER_READ = (
    "adresse", "rue", "ville", "commune", "telephone", "tel", "portable", "mobile", "email",
    "mail", "courriel", "securite sociale", "secu", "nir", "numero ss", "mutuelle", "notes",
    "note", "observations", "observation", "antecedents", "traitement", "diagnostic",
    "compte rendu", "commentaire", "commentaires", "remarques", "bilan", "conclusion",
)  # fmt: skip
assert set(SYNONYMS) == set(COLUMNS)


def _tokens(text: str) -> list[str]:
    return [t for t in normalize_name(text).split() if t not in _FILLER]


def score(header: str, synonym: str) -> float:
    """How well ``header`` reads as ``synonym``: 1 equal, ≥ 0.9 sure, ≥ 0.7 likely."""
    h, s = _tokens(header), synonym.split()
    if not h:
        return 0.0
    if h == s:
        return 1.0
    if set(s) <= set(h):  # "Prénom du patient" holds "prénom"
        return 0.8 + 0.15 * len(s) / len(h)
    return SequenceMatcher(None, " ".join(h), synonym).ratio() * 0.95  # never "sure" alone


def _never_read(header: str) -> bool:
    joined = " ".join(_tokens(header))
    return any(
        joined == word or (" " not in word and word in joined.split()) for word in NEVER_READ
    )


def guess(headers: list[str]) -> dict[int, tuple[str, float]]:
    """Column index → (canonical column, score) for headers worth mapping (greedy, best first)."""
    candidates = []
    for i, header in enumerate(headers):
        if _never_read(header):
            continue
        for target, synonyms in SYNONYMS.items():
            best = max(score(header, s) for s in synonyms)
            if best >= LIKELY:
                candidates.append((best, -i, target))
    chosen: dict[int, tuple[str, float]] = {}
    taken: set[str] = set()
    for value, neg_i, target in sorted(candidates, reverse=True):
        if -neg_i not in chosen and target not in taken:
            chosen[-neg_i] = (target, value)
            taken.add(target)
    if "full_name" in taken and {"family_name", "first_name"} & taken:
        # a "Patient" column next to Nom/Prénom is something else (a number, a flag)
        chosen = {i: g for i, g in chosen.items() if g[0] != "full_name"}
    return chosen


def _header_row(path: Path, password: files.Password | None) -> tuple[str | None, int, list[str]]:
    """(sheet when not the first, header row number, headers) of the first sheet with one."""
    probe = Mapping(feeds=frozenset(), columns={})
    spreadsheet = open_spreadsheet(path, probe, password)
    for index, sheet in enumerate(spreadsheet.sheet_names or [None]):
        for n, cells in spreadsheet.rows(probe, sheet):
            filled = [c for c in cells if c not in (None, "")]
            # the header row: several cells, all words (a title row has one, data rows numbers)
            if len(filled) >= 2 and all(isinstance(c, str) and _tokens(c) for c in filled):
                headers = [str(c).strip() if c is not None else "" for c in cells]
                return (sheet if index else None), n, headers
            if n >= HEADER_SEARCH_ROWS:
                break
    raise InputError(
        f"{path.name} : pas de ligne d'en-tête dans les {HEADER_SEARCH_ROWS} premières lignes"
    )


def _feeds(targets: set[str]) -> list[str]:
    visit = {"consulted_on", "start_time", "status", "consultation_type", "motif"}
    feeds = []
    if "consulted_on" in targets or not targets & {"amount"}:
        feeds.append("consultations" if targets & visit else "patients")
    if "amount" in targets:
        feeds.append("invoices")
        if targets & {"payment_method", "paid_on", "invoice_status"}:
            feeds.append("payments")
    return feeds


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def suggest_mapping(path: Path, *, password: files.Password | None = None) -> str:
    """A draft mapping (YAML text) for ``path``, uncertain guesses marked by comments.

    ``password(path)`` is asked if ``path`` is a password-protected workbook.
    """
    sheet, n, headers = _header_row(path, password)
    chosen = guess(headers)
    targets = {t for t, _ in chosen.values()}
    feeds = _feeds(targets)
    lines = [
        f"# Brouillon de correspondance pour {path.name} : relisez chaque ligne,",
        "# corrigez les « à vérifier », puis :",
        "#   osteo import FICHIER --format generic --mapping CE_FICHIER.yaml",
        f"format: {FORMAT_TAG}",
        f"feeds: [{', '.join(feeds)}]",
    ]
    if sheet is not None:
        lines.append(f"sheet: {_q(sheet)}")
    if n != 1:
        lines.append(f"header_row: {n}")
    lines += ["date_format: auto", 'decimal_separator: ","']
    if not targets & {"practitioner"} and targets & {"consulted_on", "amount"}:
        lines.append('practitioner: "Praticien du cabinet"  # à remplacer par votre nom')
    lines.append("columns:")
    seen: set[str] = set()
    for i, header in enumerate(headers):
        key = normalize_name(header)
        if not key or key in seen:
            continue  # empty or repeated header: the adapter reads the first one only
        seen.add(key)
        target, value = chosen.get(i, (DROP, 0.0))
        if target == DROP:
            why = "jamais lue (identifiante ou clinique)" if _never_read(header) else "non reconnue"
            comment = f"  # {why}"
        elif value < SURE:
            comment = f"  # à vérifier : {COLUMNS[target][1]}"
        else:
            comment = ""
        lines.append(f"  {_q(header)}: {target}{comment}")
    lines += _missing(targets, feeds) + _values_hint(targets)
    return "\n".join(lines) + "\n"


def _missing(targets: set[str], feeds: list[str]) -> list[str]:
    needs: list[str] = []
    if "full_name" not in targets:
        needs += [c for c in ("family_name", "first_name") if c not in targets]
    if "invoices" in feeds and "amount" not in targets:
        needs.append("amount")
    if "consultations" in feeds and "consulted_on" not in targets:
        needs.append("consulted_on")
    return [f"# MANQUE : aucune colonne reconnue pour {c} ({COLUMNS[c][1]})" for c in needs]


def _values_hint(targets: set[str]) -> list[str]:
    hints: dict[str, Any] = {
        "payment_method": '"Carte bleue": cb',
        "status": '"Annulé": cancelled',
        "invoice_status": '"Réglée": paid',
    }
    present = [t for t in hints if t in targets]
    if not present:
        return []
    lines = ["# Valeurs propres au fichier (les usuelles sont déjà connues) :", "# values:"]
    for t in present:
        lines += [f"#   {t}:", f"#     {hints[t]}"]
    return lines
