"""osteo-analytics: encrypted, pseudonymized practice analytics for French osteopaths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "open_warehouse"]

if TYPE_CHECKING:
    from osteo_analytics.warehouse import open_warehouse


def __getattr__(name: str) -> Any:
    # Lazy: `import osteo_analytics` (the CLI's first step) must not pull in DuckDB.
    if name == "open_warehouse":
        from osteo_analytics.warehouse import open_warehouse

        return open_warehouse
    raise AttributeError(f"module 'osteo_analytics' has no attribute {name!r}")
