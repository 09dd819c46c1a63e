"""Typed errors raised by the library.

Only the command line (`cli.py`) and the dashboards turn these into messages for a
person. Every message is one line that says what went wrong and how to fix it; it never
contains a secret, a patient value or the path of a temporary file.

Exit codes (DESIGN.md): 1 = the operation failed, 2 = bad usage or unreadable input.
"""

from __future__ import annotations


class OsteoError(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code = 1


# --- bad usage or unreadable input (exit 2) -------------------------------------------


class UsageError(OsteoError):
    """The command was called wrongly (bad option value, conflicting options)."""

    exit_code = 2


class InputError(OsteoError):
    """An input file cannot be read or does not have the expected shape."""

    exit_code = 2


class ContractError(InputError):
    """A data contract file is missing, malformed or not valid ODCS."""


class MappingError(InputError):
    """A source mapping file is malformed or names unknown columns."""


class ReadOnlyError(UsageError):
    """A statement would create or change something where SQL may only read (`osteo sql`)."""


class WeakPassphraseError(UsageError):
    """The passphrase offered is too weak; the message gives the reason."""


# --- the operation failed (exit 1) -----------------------------------------------------


class WorkspaceError(OsteoError):
    """The workspace is missing, already exists, or is not in the expected state."""


class VaultError(OsteoError):
    """Base class of encryption and decryption failures."""


class DecryptionError(VaultError):
    """A file could not be decrypted: wrong passphrase or key, or not an age file."""


class IntegrityError(VaultError):
    """A file was modified, truncated, swapped or is missing. Names the file, never its content."""


class SnapshotError(OsteoError):
    """A snapshot cannot be written or read."""


class ValidationError(OsteoError):
    """Data does not satisfy its contract in a way that stops the operation."""


class AuditError(OsteoError):
    """The audit log is broken: a line was edited, deleted or reordered."""


class ToolMissingError(OsteoError):
    """An external program this command needs (restic, age, chromium) is not installed."""


class InvalidKeyError(VaultError):
    """An age recipient, identity or recovery code is malformed or of an unsupported kind."""

    exit_code = 2
