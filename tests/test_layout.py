"""The package's layout: imports go one way, down the data flow, and every module has a place.

A module may import its own layer and the layers before it, never one after it: the
sources know nothing of pseudonymizing, the warehouse nothing of the metrics, the library
nothing of the command line. The vocabulary every stage reads (errors, settings, the
contracts' model and code lists, the pseudonym primitives) is the foundation. Imports
inside functions and under `TYPE_CHECKING` count too: a late import is still a
dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "osteo_analytics"

# In data-flow order, each entry a layer: module names relative to the package, a trailing
# ".*" for a whole subpackage. The same order as the package docstring's list.
LAYERS: list[tuple[str, ...]] = [
    (
        "errors",
        "atomic",
        "formatting",
        "settings",
        "contracts",
        "contracts.model",
        "contracts.sql",
        "pseudonymize",
        "pseudonymize.primitives",
        "pseudonymize.motifs",
    ),
    ("synthetic.*",),
    ("sources.*",),
    ("pseudonymize.stage",),
    ("contracts.checks",),
    ("vault", "keys"),
    ("snapshots",),
    ("audit", "workspace"),
    ("import_reports", "ingest", "quarantine", "agent", "backup"),
    ("warehouse",),
    ("share",),
    ("metrics.*",),
    ("exports", "dashboards.*"),
    ("report", "serve.*", "demo"),
    ("cli.*",),
]
# `osteo_analytics.open_warehouse` is the public façade: the root package imports the
# warehouse lazily, on first use, and nothing inside the package imports it from there.
FACADE = "osteo_analytics"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int | None:
    """The rank of `module` (a full name) in LAYERS, or None when it has no place."""
    short = module.removeprefix("osteo_analytics.")
    for rank, layer in enumerate(LAYERS):
        for entry in layer:
            base = entry.removesuffix(".*")
            if short == base or (entry.endswith(".*") and short.startswith(base + ".")):
                return rank
    return None


def imported_modules(
    text: str, name: str, *, is_package: bool, modules: set[str]
) -> list[tuple[int, str]]:
    """(line, module) of every package module the source `text` of module `name` imports."""
    package = name.split(".") if is_package else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name in modules]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            if source not in modules:
                continue
            # `from pkg import submodule` imports the submodule, not only the package.
            subs = [f"{source}.{a.name}" for a in node.names if f"{source}.{a.name}" in modules]
            found += [(node.lineno, s) for s in subs] or [(node.lineno, source)]
    return found


def _imports(name: str, path: Path, modules: set[str]) -> list[tuple[int, str]]:
    text = path.read_text("utf-8")
    return imported_modules(text, name, is_package=path.name == "__init__.py", modules=modules)


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in _modules() if m != FACADE and layer_of(m) is None]
    assert unplaced == [], "add them to LAYERS (and to the package docstring)"


def upward_imports(name: str, text: str, *, is_package: bool, modules: set[str]) -> list[str]:
    """The imports of module `name` (source `text`) that run back up LAYERS."""
    own = layer_of(name)
    assert own is not None, f"{name} has no layer"
    found = imported_modules(text, name, is_package=is_package, modules=modules)
    return [f"{name}:{line} imports {t}" for line, t in found if (layer_of(t) or 0) > own]


def test_imports_go_one_way() -> None:
    modules = _modules()
    upward = []
    for name, path in modules.items():
        if name != FACADE:
            text = path.read_text("utf-8")
            is_package = path.name == "__init__.py"
            upward += upward_imports(name, text, is_package=is_package, modules=set(modules))
    assert upward == []


def test_the_facade_imports_only_the_warehouse() -> None:
    modules = _modules()
    targets = {t for _, t in _imports(FACADE, modules[FACADE], set(modules))}
    assert targets == {"osteo_analytics.warehouse"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from osteo_analytics.metrics import headline\n", ["osteo_analytics.metrics"]),
        (
            "from osteo_analytics import keys, vault\n",
            ["osteo_analytics.keys", "osteo_analytics.vault"],
        ),
        (
            "def f():\n    from osteo_analytics.cli.tools import unlock\n",
            ["osteo_analytics.cli.tools"],
        ),
        (
            "if TYPE_CHECKING:\n    from ...warehouse import Warehouse\n",
            ["osteo_analytics.warehouse"],
        ),
        ("from . import rows\n", ["osteo_analytics.sources.ledger.rows"]),
        ("from .. import base\n", ["osteo_analytics.sources.base"]),
        ("import osteo_analytics.demo as d\n", ["osteo_analytics.demo"]),
        ("import duckdb\nfrom pathlib import Path\n", []),
    ],
)
def test_the_scan_sees_every_form_of_import(source: str, expected: list[str]) -> None:
    """The checker itself, on the adapter package `sources.ledger`: each form resolves."""
    modules = set(_modules())
    name = "osteo_analytics.sources.ledger"
    found = imported_modules(source, name, is_package=True, modules=modules)
    assert [target for _, target in found] == expected


def test_a_backward_import_is_caught() -> None:
    """What the rule forbids, on made-up lines: the warehouse reading the metrics, the
    sources reading the pseudonymize stage; the same import the other way is allowed."""
    modules = set(_modules())
    line = "from osteo_analytics.metrics import headline\n"
    assert upward_imports("osteo_analytics.warehouse", line, is_package=False, modules=modules) == [
        "osteo_analytics.warehouse:1 imports osteo_analytics.metrics"
    ]
    line = "from osteo_analytics.pseudonymize.stage import pseudonymize_batch\n"
    assert upward_imports("osteo_analytics.sources.base", line, is_package=False, modules=modules)
    line = "from osteo_analytics.warehouse import Warehouse\n"
    assert upward_imports("osteo_analytics.metrics", line, is_package=True, modules=modules) == []


def _listed_layout() -> list[str]:
    """The module paths listed by the package docstring, in its order."""
    import osteo_analytics

    doc = osteo_analytics.__doc__ or ""
    return re.findall(r"^ {4}(\S+(?:\.py|/)) {2,}\S", doc, flags=re.M)


def test_the_package_docstring_lists_every_module_in_layer_order() -> None:
    """One line per module (a package's `__init__.py` as `dir/`), in the order of LAYERS."""
    listed = _listed_layout()
    modules = [m for m in _modules() if m != FACADE]

    def path_of(module: str) -> str:
        short = module.removeprefix("osteo_analytics.").replace(".", "/")
        is_package = _modules()[module].name == "__init__.py"
        return short + ("/" if is_package else ".py")

    assert sorted(listed) == sorted(path_of(m) for m in modules)
    ranks = [
        layer_of("osteo_analytics." + e.removesuffix(".py").rstrip("/").replace("/", "."))
        for e in listed
    ]
    assert ranks == sorted(ranks, key=lambda r: r or 0)
