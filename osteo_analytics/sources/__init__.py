"""Source adapters: raw exports → stage-1 source tables (:class:`SourceBatch`).

One subpackage per input format. Each exposes ``name``, ``detect(path) -> bool`` and
``read(paths) -> SourceBatch`` (the :class:`~osteo_analytics.sources.base.SourceAdapter`
protocol), so ``osteo import --format auto`` can ask each adapter in turn.
"""

from __future__ import annotations

from pathlib import Path

from osteo_analytics.sources import docx, generic, ledger, libreosteo
from osteo_analytics.sources.base import FileReport, RejectedRow, SourceAdapter, SourceBatch
from osteo_analytics.sources.libreosteo import read_libreosteo

# Auto-detection asks in this order; generic is never detected (it needs a mapping).
ADAPTERS: dict[str, SourceAdapter] = {
    libreosteo.name: libreosteo,
    ledger.name: ledger,
    docx.name: docx,
    generic.name: generic,
}


def detect_format(path: Path) -> str | None:
    """Name of the first adapter that recognizes ``path``, or None."""
    for adapter_name, adapter in ADAPTERS.items():
        if adapter.detect(path):
            return adapter_name
    return None


__all__ = [
    "ADAPTERS",
    "FileReport",
    "RejectedRow",
    "SourceAdapter",
    "SourceBatch",
    "detect_format",
    "read_libreosteo",
]
