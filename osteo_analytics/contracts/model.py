"""The data-contract model: ODCS v3.1 files of ``data_contracts/`` read into typed objects.

The contracts are the single source of truth for the canonical datasets (docs/datasets.md):
columns and DuckDB types, which columns pseudonymize keeps or removes (customProperty
``stage``), the anonymizationStrategy of each, code lists with their French labels, and the
quality rules that `osteo_analytics.contracts.checks` runs. `codes` and `labels` serve the
code lists to the rest of the package, so that none is written by hand elsewhere.

Rules understood (anything else is a `ContractError` at load time, never a silent skip):
``required`` + ``metric: nullValues``; ``unique`` + ``metric: duplicateValues``;
``metric: invalidValues`` with ``validValues`` or ``pattern``; ``type: sql`` whose query is
``SELECT COUNT(*) FROM {object} WHERE <predicate>`` (portable ODCS; the predicate also
selects the failing rows); property ``relationships`` (foreign keys). Every rule must say
``mustBe: 0``: a failing row is reported, never tolerated up to a threshold.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pyarrow as pa
import yaml

from osteo_analytics.contracts.sql import quote_ident
from osteo_analytics.errors import ContractError

STRATEGIES = frozenset(
    {"keep", "hmac", "generalize-year", "generalize-departement", "categorize", "drop"}
)
STORED, SOURCE = "pseudonymized", "source"  # values of the `stage` customProperty
_KEPT = ("keep", "hmac")  # strategies that leave a column (or its pseudonym) in place
_REQUIRED_ATTRIBUTES = ("logicalType", "physicalType", "classification", "businessName")
_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "TIME": pa.time64("us"),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),(\d+)\)")
_SQL_RULE = re.compile(
    r"\s*SELECT\s+COUNT\(\*\)\s+FROM\s+\{object\}\s+WHERE\s+(?P<where>.+?)\s*;?\s*", re.I | re.S
)
# An installed wheel carries the contracts inside the package (setup.py); a source checkout
# reads the one copy kept at the repository's top level.
_PACKAGE = Path(__file__).resolve().parents[1]
_PACKAGED = _PACKAGE / "data_contracts"
CONTRACTS_DIR = _PACKAGED if _PACKAGED.is_dir() else _PACKAGE.parent / "data_contracts"
# libyaml's safe loader when PyYAML was built with it: ten times faster, and the contracts
# are read by every import and every `osteo metrics` (code lists and labels).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Fail = Callable[[str], ContractError]  # builds "<file> : <message> ; corrigez ..."


# --- the contract model ----------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One row-level quality rule on one column (`kind` says how `check` runs it)."""

    column: str
    name: str
    kind: str  # not_null | unique | allowed_values | pattern | sql | foreign_key
    reads: tuple[str, ...]  # columns the rule needs (it is skipped if one is unusable)
    values: tuple[str, ...] = ()
    pattern: str | None = None
    where: str | None = None
    references: str | None = None  # "dataset.column" for foreign_key
    description: str = ""


@dataclass(frozen=True)
class Column:
    """One ODCS property: a stored column (stage pseudonymized) or a removed source column."""

    name: str
    business_name: str
    description: str
    logical_type: str
    physical_type: str
    required: bool
    unique: bool
    primary_key: bool
    classification: str
    strategy: str
    stage: str
    value_labels: Mapping[str, str] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()

    @property
    def stored(self) -> bool:
        """True for columns kept after pseudonymization (in snapshots and the warehouse)."""
        return self.stage == STORED

    @property
    def allowed_values(self) -> tuple[str, ...] | None:
        """The code list of an enumerated column, None for free values."""
        for rule in self.rules:
            if rule.kind == "allowed_values":
                return rule.values
        return None


@dataclass(frozen=True)
class Contract:
    """A loaded data contract for one canonical dataset."""

    name: str
    id: str
    version: str
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        """The column called `name` (KeyError if the contract has none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def snapshot_columns(self) -> list[str]:
        """Columns stored after pseudonymization, in contract order."""
        return [c.name for c in self.columns if c.stored]

    def source_columns(self) -> list[str]:
        """Stage-1 columns that pseudonymize removes: they must be absent from stored data."""
        return [c.name for c in self.columns if not c.stored]

    def primary_key(self) -> list[str]:
        """The natural key used to upsert re-imported rows."""
        return [c.name for c in self.columns if c.primary_key]

    def strategies(self) -> dict[str, str]:
        """Every column (stored or removed) → its anonymizationStrategy."""
        return {c.name: c.strategy for c in self.columns}

    def allowed_values(self) -> dict[str, tuple[str, ...]]:
        """Enumerated stored columns → their allowed codes."""
        return {c.name: v for c in self.columns if c.stored and (v := c.allowed_values)}

    def value_labels(self) -> dict[str, dict[str, str]]:
        """Enumerated columns → {code: French label} for dashboards."""
        return {c.name: dict(c.value_labels) for c in self.columns if c.value_labels}

    def rules(self) -> list[Rule]:
        """Row-level rules of the stored columns, in contract order."""
        return [r for c in self.columns if c.stored for r in c.rules]

    def arrow_schema(self) -> pa.Schema:
        """Arrow schema of the stored dataset (decimal128(12,2) money, date32, time64, int32).

        Every field is nullable: DuckDB returns nullable fields whatever the data, so a
        non-nullable schema would make round-trips fail; `check` enforces ``required``.
        """
        return pa.schema(
            [pa.field(c.name, _arrow_type(c.physical_type)) for c in self.columns if c.stored]
        )


def _arrow_type(physical_type: str) -> pa.DataType:
    if m := _DECIMAL.fullmatch(physical_type):
        return pa.decimal128(int(m[1]), int(m[2]))
    return _ARROW_TYPES[physical_type]


# --- loading ---------------------------------------------------------------------------


def load_contracts(directory: str | Path | None = None) -> dict[str, Contract]:
    """Load every ``*.odcs.yaml`` of `directory` (default: the repository's data_contracts/).

    Returns {dataset name: Contract}. Raises ContractError if the folder is missing or empty
    or a file is malformed.
    """
    if directory is None:
        return dict(_default_contracts())
    folder = Path(directory)
    files = sorted(folder.glob("*.odcs.yaml")) if folder.is_dir() else []
    if not files:
        raise ContractError(
            f"{folder.name or folder} : aucun contrat de données (*.odcs.yaml) dans ce dossier ;"
            " indiquez le dossier des contrats"
        )
    contracts: dict[str, Contract] = {}
    for path in files:
        contract = validate_contract_file(path)
        if contract.name in contracts:
            raise ContractError(
                f"{path.name} : jeu de données « {contract.name} » défini deux fois ;"
                " gardez un seul contrat par jeu de données"
            )
        contracts[contract.name] = contract
    return contracts


@functools.cache
def _default_contracts() -> Mapping[str, Contract]:
    # Resolved from this file, so it works from a source checkout and an editable install.
    return MappingProxyType(load_contracts(CONTRACTS_DIR))


# --- code lists ------------------------------------------------------------------------
# The one place code lists and their French labels are read: every other module asks here
# instead of writing "cb", "cheque"... or "Carte bancaire" down again.


@functools.cache
def codes(dataset: str, column: str) -> tuple[str, ...]:
    """The codes an enumerated column may hold, in contract order (``validValues``).

    ``codes("payments", "method")`` → ``("cb", "cheque", "especes", "virement", "autre")``.
    Raises ContractError if the contract has no such column or the column no code list.
    """
    values = _enumerated(dataset, column).allowed_values
    if not values:
        raise _no_code_list(dataset, column, "validValues")
    return values


@functools.cache
def labels(dataset: str, column: str) -> Mapping[str, str]:
    """Code → French label of an enumerated column (``valueLabels``), in contract order.

    Read-only (shared by every caller). Raises ContractError if the contract has no such
    column or the column no labels.
    """
    col = _enumerated(dataset, column)
    if not col.value_labels:
        raise _no_code_list(dataset, column, "valueLabels")
    return col.value_labels


def _enumerated(dataset: str, column: str) -> Column:
    contract = _default_contracts().get(dataset)
    try:
        if contract is None:
            raise KeyError(dataset)
        return contract.column(column)
    except KeyError:
        raise _no_code_list(dataset, column, "validValues") from None


def _no_code_list(dataset: str, column: str, key: str) -> ContractError:
    return ContractError(
        f"{dataset}.{column} : pas de liste de codes ({key}) dans les contrats de données ;"
        " complétez le contrat"
    )


def validate_contract_file(path: str | Path, *, odcs_schema: str | Path | None = None) -> Contract:
    """Read one contract file, check the structure this package relies on, return it.

    With `odcs_schema` (the ODCS v3.1 JSON schema file, available in development), the file
    is also validated against it. Raises ContractError with a one-line message.
    """
    path = Path(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError) as exc:
        reason = "pas en UTF-8" if isinstance(exc, UnicodeDecodeError) else exc.strerror
        raise ContractError(
            f"{path.name} : contrat de données illisible ({reason or 'erreur E/S'})"
        ) from None
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", -1) + 1
        raise ContractError(
            f"{path.name} : YAML invalide (ligne {line}) ; corrigez le contrat de données"
        ) from None
    if odcs_schema is not None:
        _validate_json_schema(path.name, doc, Path(odcs_schema))
    try:
        return _parse(path.name, doc)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        # A list where a mapping belongs, a label without a value...: still one clear line.
        raise ContractError(
            f"{path.name} : structure inattendue ({exc.__class__.__name__}) ;"
            " corrigez le contrat de données"
        ) from None


def _validate_json_schema(fname: str, doc: Any, schema_path: Path) -> None:
    import jsonschema  # only needed here, in development and tests

    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        path = "/".join(str(p) for p in error.absolute_path)
        where = f"en {path}" if path else "à la racine"
        raise ContractError(
            f"{fname} : contrat non conforme à ODCS {where} ({error.message}) ;"
            " corrigez le contrat de données"
        )


def _parse(fname: str, doc: Any) -> Contract:
    def fail(msg: str) -> ContractError:
        return ContractError(f"{fname} : {msg} ; corrigez le contrat de données")

    if not isinstance(doc, dict):
        raise fail("le fichier doit être un dictionnaire YAML")
    if doc.get("apiVersion") != "v3.1.0" or doc.get("kind") != "DataContract":
        raise fail("apiVersion v3.1.0 et kind DataContract attendus")
    for key in ("id", "version", "status"):
        if not isinstance(doc.get(key), str):
            raise fail(f"clé obligatoire {key} absente")
    schema = doc.get("schema")
    if not isinstance(schema, list) or len(schema) != 1 or not isinstance(schema[0], dict):
        raise fail("un seul objet schema attendu (un jeu de données par fichier)")
    obj = schema[0]
    props = obj.get("properties")
    if not isinstance(obj.get("name"), str) or not isinstance(props, list) or not props:
        raise fail("l'objet schema doit avoir un name et des properties")
    names = [p["name"] for p in props if isinstance(p, dict) and isinstance(p.get("name"), str)]
    if len(set(names)) != len(props):
        raise fail("chaque propriété doit avoir un name, différent des autres")
    columns = tuple(_parse_column(fail, p, names) for p in props)
    return Contract(name=obj["name"], id=doc["id"], version=doc["version"], columns=columns)


def _parse_column(fail: _Fail, prop: dict[str, Any], names: list[str]) -> Column:
    name = str(prop["name"])
    missing = [a for a in (*_REQUIRED_ATTRIBUTES, "description") if not prop.get(a)]
    if missing:
        raise fail(f"colonne « {name} » : il manque {', '.join(missing)}")
    custom = {c.get("property"): c.get("value") for c in prop.get("customProperties") or []}
    strategy, stage = custom.get("anonymizationStrategy"), custom.get("stage")
    if strategy not in STRATEGIES:
        raise fail(
            f"colonne « {name} » : anonymizationStrategy inconnue"
            f" (permises : {', '.join(sorted(STRATEGIES))})"
        )
    if stage not in (STORED, SOURCE):
        raise fail(f"colonne « {name} » : la customProperty stage doit valoir {STORED} ou {SOURCE}")
    if (stage == STORED and strategy == "drop") or (stage == SOURCE and strategy in _KEPT):
        raise fail(f"colonne « {name} » : stage {stage} contredit anonymizationStrategy {strategy}")
    ptype = str(prop["physicalType"])
    if ptype not in _ARROW_TYPES and not _DECIMAL.fullmatch(ptype):
        raise fail(f"colonne « {name} » : physicalType « {ptype} » non pris en charge")
    labels = {str(v["value"]): str(v["label"]) for v in custom.get("valueLabels") or []}
    rules = tuple(_parse_rule(fail, name, entry, names) for entry in prop.get("quality") or [])
    rules += tuple(
        Rule(name, "foreign_key", "foreign_key", (name,), references=_reference(fail, name, rel))
        for rel in prop.get("relationships") or []
    )
    col = Column(
        name=name,
        business_name=prop["businessName"],
        description=prop["description"],
        logical_type=prop["logicalType"],
        physical_type=ptype,
        required=bool(prop.get("required", False)),
        unique=bool(prop.get("unique", False)),
        primary_key=bool(prop.get("primaryKey", False)),
        classification=prop["classification"],
        strategy=strategy,
        stage=stage,
        value_labels=MappingProxyType(labels),
        rules=rules,
    )
    kinds = {r.kind for r in rules}
    # `required`/`unique` and their quality entries say the same thing twice (ODCS has
    # both); refuse contracts where they disagree rather than guess which one is meant.
    if col.required != ("not_null" in kinds) or col.unique != ("unique" in kinds):
        raise fail(
            f"colonne « {name} » : required/unique doivent correspondre à ses règles"
            " nullValues/duplicateValues"
        )
    if rules and not col.stored:
        raise fail(
            f"colonne « {name} » : une colonne source est supprimée, elle ne peut pas porter"
            " de règles"
        )
    if labels and col.allowed_values and set(labels) != set(col.allowed_values):
        raise fail(
            f"colonne « {name} » : valueLabels et validValues ne listent pas les mêmes codes"
        )
    return col


def _parse_rule(fail: _Fail, column: str, entry: Any, names: list[str]) -> Rule:
    if not isinstance(entry, dict) or entry.get("mustBe") != 0:
        raise fail(f"colonne « {column} » : chaque règle quality doit indiquer mustBe: 0")
    metric, args = entry.get("metric"), entry.get("arguments")
    args = args if isinstance(args, dict) else {}
    kind = {"nullValues": "not_null", "duplicateValues": "unique"}.get(metric or "")
    values: tuple[str, ...] = ()
    regex: str | None = None
    where: str | None = None
    if metric == "invalidValues" and isinstance(args.get("validValues"), list):
        kind, values = "allowed_values", tuple(str(v) for v in args["validValues"])
    elif metric == "invalidValues" and isinstance(args.get("pattern"), str):
        kind, regex = "pattern", args["pattern"]
    elif entry.get("type") == "sql" and (m := _SQL_RULE.fullmatch(str(entry.get("query", "")))):
        kind, where = "sql", m["where"].replace("{property}", quote_ident(column))
    if kind is None:
        raise fail(
            f"colonne « {column} » : règle quality « {entry.get('name', metric)} »"
            " non prise en charge"
        )
    # A sql predicate may read other columns (amount < 0 AND status <> ...): record them so
    # that `check` skips the rule instead of failing when one of them is missing.
    reads = [n for n in names if n != column and where and re.search(rf"\b{n}\b", where)]
    return Rule(
        column, str(entry.get("name", kind)), kind, (column, *reads), values, regex, where,
        description=str(entry.get("description", "")),
    )  # fmt: skip


def _reference(fail: _Fail, column: str, rel: Any) -> str:
    target = rel.get("to") if isinstance(rel, dict) else None
    if not isinstance(target, str) or target.count(".") != 1:
        raise fail(f"colonne « {column} » : relationships demande « to: dataset.column »")
    return target
