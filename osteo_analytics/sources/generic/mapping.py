"""Mapping files of the generic adapter: schema, strict loading, validation.

A mapping file (YAML) tells the generic adapter how to read one kind of home-made
spreadsheet: which source header holds which canonical column, how dates and amounts are
written, how the sheet's own words translate into codes, and which datasets the file
feeds. The schema is documented in ``data_contracts/sources/README.md``; this module is its
single source of truth (:data:`TOP_KEYS`, :data:`COLUMNS`, :data:`VALUE_CODES`).

Validation is strict because a silently ignored key is a silently wrong import: an unknown
key, an unknown canonical column, a column mapped twice or a missing required column is a
:class:`~osteo_analytics.errors.MappingError` whose one-line message names the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from osteo_analytics.errors import MappingError
from osteo_analytics.pseudonymize.primitives import normalize_name
from osteo_analytics.sources.base import (
    CONSULTATION_STATUSES,
    CONSULTATION_TYPES,
    INVOICE_STATUSES,
    PAYMENT_METHODS,
    SEXES,
)

FORMAT_TAG = "osteo-mapping/1"
FEEDS = ("patients", "consultations", "invoices", "payments")
DROP = "drop"  # target of a column read by nobody (documents that it was seen and left out)

# A sheet's invoice status says paid, unpaid or cancelled; credit notes are not its words.
_SHEET_INVOICE_STATUSES = tuple(s for s in INVOICE_STATUSES if s != "credit_note")


def _listed(codes: tuple[str, ...]) -> str:
    return " / ".join(codes)


# canonical column → (datasets it needs in `feeds`, help text for the README and drafts)
COLUMNS: dict[str, tuple[tuple[str, ...], str]] = {
    "family_name": ((), "nom de famille du patient"),
    "first_name": ((), "prénom du patient"),
    "full_name": ((), "« NOM Prénom » dans une seule colonne"),
    "birth_date": ((), "date de naissance (seule l'année est gardée)"),
    "sex": ((), f"sexe : {_listed(SEXES)} (voir values.sex)"),
    "postcode": ((), "code postal (seul le département est gardé)"),
    "registered_on": ((), "date de création du dossier"),
    "practitioner": (("consultations", "invoices"), "nom du praticien"),
    "consulted_on": (("consultations", "invoices"), "date de la séance"),
    "start_time": (("consultations",), "heure de début (14:30, 14h30)"),
    "status": (("consultations",), f"statut de la séance → {_listed(CONSULTATION_STATUSES)}"),
    "consultation_type": (("consultations",), f"type de séance → {_listed(CONSULTATION_TYPES)}"),
    "motif": (("consultations",), "motif en texte libre → catégorie, texte jeté aussitôt"),
    "invoice_number": (("invoices",), "numéro de facture"),
    "amount": (("invoices",), "montant facturé (euros)"),
    "issued_on": (("invoices",), "date de facture (sinon la date de séance)"),
    "invoice_status": (("invoices",), f"statut de facture → {_listed(_SHEET_INVOICE_STATUSES)}"),
    "payment_method": (("invoices",), f"mode de règlement → {_listed(PAYMENT_METHODS)}"),
    "paid_on": (("invoices",), "date d'encaissement"),
    "paid_amount": (("payments",), "montant encaissé (sinon le montant facturé)"),
}
# canonical columns whose cell values are codes, and the codes they may take
VALUE_CODES: dict[str, tuple[str, ...]] = {
    "status": CONSULTATION_STATUSES,
    "consultation_type": CONSULTATION_TYPES,
    "invoice_status": _SHEET_INVOICE_STATUSES,
    "payment_method": (*PAYMENT_METHODS, "unpaid"),  # unpaid: the cell says "not paid"
    "sex": SEXES,
}

TOP_KEYS: dict[str, str] = {
    "format": f"obligatoire, toujours {FORMAT_TAG}",
    "feeds": "obligatoire : liste parmi patients, consultations, invoices, payments",
    "columns": "obligatoire : en-tête du fichier → colonne canonique (ou drop)",
    "values": "facultatif : colonne canonique → {valeur du fichier: code}",
    "sheet": "facultatif (xlsx) : nom de la feuille ; sinon la première",
    "header_row": "facultatif : numéro de la ligne d'en-tête ; sinon cherchée",
    "encoding": "facultatif (csv) : auto, utf-8, cp1252 ou latin-1",
    "delimiter": "facultatif (csv) : auto, ';', ',' ou tabulation",
    "date_format": "facultatif : auto (formats français) ou motif strptime (%d/%m/%Y)",
    "decimal_separator": "facultatif : ',' (défaut) ou '.'",
    "practitioner": "facultatif : praticien des lignes sans colonne praticien",
}
REQUIRED_KEYS = ("format", "feeds", "columns")
ENCODINGS = ("auto", "utf-8", "cp1252", "latin-1")
DELIMITERS = ("auto", ";", ",", "\t")
DEFAULT_PRACTITIONER = "Praticien du cabinet"


@dataclass(frozen=True, slots=True)
class Mapping:
    """A validated mapping file."""

    feeds: frozenset[str]
    columns: dict[str, str]  # source header → canonical column (drops removed)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # folded source → code
    sheet: str | None = None
    header_row: int | None = None
    encoding: str = "auto"
    delimiter: str = "auto"
    date_format: str = "auto"
    decimal_separator: str = ","
    practitioner: str = DEFAULT_PRACTITIONER
    name: str = "mapping"

    def header_of(self, canonical: str) -> str | None:
        """The source header mapped to ``canonical``, if any."""
        for header, target in self.columns.items():
            if target == canonical:
                return header
        return None

    def maps(self, canonical: str) -> bool:
        """True if some source header is mapped to ``canonical``."""
        return canonical in self.columns.values()


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (YAML would silently keep the last one)."""


def _no_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise MappingError(
                f"clé « {key} » présente deux fois (ligne {key_node.start_mark.line + 1})"
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping file; MappingError (one line, naming the key) if wrong."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            raise MappingError(
                f"{path.name} : le fichier de correspondance n'est pas en UTF-8 ;"
                " enregistrez-le en UTF-8"
            ) from None
        reason = exc.strerror or "erreur E/S"
        raise MappingError(
            f"{path.name} : fichier de correspondance illisible ({reason})"
        ) from None
    try:
        doc = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
    except MappingError as exc:
        raise MappingError(f"{path.name} : {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (ligne {mark.line + 1})" if mark is not None else ""
        raise MappingError(f"{path.name} : YAML invalide{where} ; corrigez la syntaxe") from None
    return parse_mapping(doc, path.name)


def parse_mapping(doc: Any, name: str = "mapping") -> Mapping:
    """Validate a mapping already parsed from YAML (see :func:`load_mapping`)."""

    def fail(message: str) -> MappingError:
        return MappingError(f"{name} : {message}")

    if not isinstance(doc, dict):
        raise fail("le fichier doit être un dictionnaire YAML (format, feeds, columns...)")
    for key in doc:
        if key not in TOP_KEYS:
            raise fail(f"clé inconnue « {key} » (clés permises : {', '.join(TOP_KEYS)})")
    for key in REQUIRED_KEYS:
        if key not in doc:
            raise fail(f"clé obligatoire « {key} » absente")
    if doc["format"] != FORMAT_TAG:
        raise fail(f"format : « {doc['format']} » inconnu, attendu {FORMAT_TAG}")
    feeds = _feeds(doc["feeds"], fail)
    columns = _columns(doc["columns"], feeds, fail)
    values = _values(doc.get("values") or {}, columns, fail)
    options = _options(doc, fail)
    return Mapping(feeds, columns, values, name=name, **options)


def _feeds(raw: Any, fail: Any) -> frozenset[str]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise fail("feeds : une liste non vide parmi " + ", ".join(FEEDS))
    for item in items:
        if item not in FEEDS:
            raise fail(f"feeds : « {item} » inconnu (permis : {', '.join(FEEDS)})")
    feeds = frozenset(items)
    if "payments" in feeds and "invoices" not in feeds:
        raise fail("feeds : payments demande aussi invoices (un paiement règle une facture)")
    return feeds


def _columns(raw: Any, feeds: frozenset[str], fail: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise fail("columns : un dictionnaire « en-tête du fichier: colonne canonique »")
    out: dict[str, str] = {}
    targets: dict[str, str] = {}
    for header, target in raw.items():
        if not isinstance(header, str | int) or not str(header).strip():
            raise fail("columns : en-tête vide")
        header = str(header).strip()
        if target == DROP or target is None:
            continue
        if target not in COLUMNS:
            raise fail(
                f"columns.{header} : colonne canonique « {target} » inconnue"
                f" (permises : {', '.join(COLUMNS)}, {DROP})"
            )
        if target in targets:
            raise fail(f"columns.{header} : « {target} » déjà donnée par « {targets[target]} »")
        needs = COLUMNS[target][0]
        if needs and not feeds & set(needs):
            raise fail(f"columns.{header} : « {target} » demande feeds {' ou '.join(needs)}")
        targets[target] = header
        out[header] = target
    _check_required(targets, feeds, fail)
    return out


def _check_required(targets: dict[str, str], feeds: frozenset[str], fail: Any) -> None:
    has = targets.__contains__
    if has("full_name") and (has("family_name") or has("first_name")):
        raise fail("columns : full_name exclut family_name et first_name")
    if not has("full_name") and not (has("family_name") and has("first_name")):
        missing = "first_name" if has("family_name") else "family_name"
        raise fail(f"columns : colonne obligatoire {missing} absente (ou full_name)")
    if "consultations" in feeds and not has("consulted_on"):
        raise fail("columns : colonne obligatoire consulted_on absente (feeds consultations)")
    if "invoices" in feeds:
        if not has("amount"):
            raise fail("columns : colonne obligatoire amount absente (feeds invoices)")
        if not (has("issued_on") or has("consulted_on")):
            raise fail("columns : colonne obligatoire issued_on absente (ou consulted_on)")
    if "payments" in feeds and not any(
        has(c) for c in ("payment_method", "paid_on", "invoice_status")
    ):
        raise fail(
            "columns : feeds payments demande payment_method, paid_on ou invoice_status"
            " pour savoir ce qui est payé"
        )


def _values(raw: Any, columns: dict[str, str], fail: Any) -> dict[str, dict[str, str]]:
    if not isinstance(raw, dict):
        raise fail("values : un dictionnaire « colonne canonique: {valeur: code} »")
    out: dict[str, dict[str, str]] = {}
    for target, table in raw.items():
        if target not in VALUE_CODES:
            raise fail(f"values.{target} : inconnu (permis : {', '.join(VALUE_CODES)})")
        if target not in columns.values():
            raise fail(f"values.{target} : aucune colonne n'est associée à {target}")
        if not isinstance(table, dict) or not table:
            raise fail(f"values.{target} : un dictionnaire « valeur du fichier: code »")
        codes = VALUE_CODES[target]
        out[target] = {}
        for source, code in table.items():
            if code not in codes:
                raise fail(
                    f"values.{target}.{source} : code « {code} » inconnu ({', '.join(codes)})"
                )
            out[target][normalize_name(str(source))] = code
    return out


def _options(doc: dict[str, Any], fail: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "sheet" in doc:
        if not isinstance(doc["sheet"], str) or not doc["sheet"]:
            raise fail("sheet : le nom d'une feuille")
        out["sheet"] = doc["sheet"]
    if "header_row" in doc:
        row = doc["header_row"]
        if isinstance(row, bool) or not isinstance(row, int) or not 1 <= row <= 1000:
            raise fail("header_row : un numéro de ligne entre 1 et 1000")
        out["header_row"] = row
    for key, allowed in (("encoding", ENCODINGS), ("delimiter", DELIMITERS)):
        if key in doc:
            value = doc[key]
            if key == "encoding" and isinstance(value, str):
                value = value.lower().replace("_", "-")
            if value not in allowed:
                raise fail(f"{key} : « {value} » non permis ({', '.join(map(repr, allowed))})")
            out[key] = value
    if "date_format" in doc:
        out["date_format"] = _date_format(doc["date_format"], fail)
    if "decimal_separator" in doc:
        if doc["decimal_separator"] not in (",", "."):
            raise fail("decimal_separator : ',' ou '.'")
        out["decimal_separator"] = doc["decimal_separator"]
    if "practitioner" in doc:
        if not isinstance(doc["practitioner"], str) or not doc["practitioner"].strip():
            raise fail("practitioner : le nom du praticien")
        out["practitioner"] = " ".join(doc["practitioner"].split())
    return out


def _date_format(value: Any, fail: Any) -> str:
    if value == "auto":
        return value
    if not isinstance(value, str) or "%" not in value:
        raise fail("date_format : auto ou un motif strptime comme %d/%m/%Y")
    try:
        datetime(2024, 3, 15, 9, 30).strftime(value)
        probe = datetime(2024, 3, 15).strftime(value)
        datetime.strptime(probe, value)
    except ValueError:
        raise fail(f"date_format : motif « {value} » invalide") from None
    return value
