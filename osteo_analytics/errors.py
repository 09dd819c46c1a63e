"""Typed errors raised by the library.

Only the command line (`cli.py`) and the dashboards turn these into messages for a
person. Every message is one French line that says what went wrong; it never contains a
secret, a patient value or the path of a temporary file. How to fix it is phrased by the
surface: a fix that depends on the surface (a command-line option or command, an
environment variable, a dashboard button) is never written here, the error carries a
`Hint` instead and each surface words its own advice.

Exit codes (DESIGN.md): 1 = the operation failed, 2 = bad usage or unreadable input.
"""

from __future__ import annotations

from enum import StrEnum


class Hint(StrEnum):
    """What the person can do about an error, for the surface to phrase (stable codes)."""

    CHOOSE_FORMAT = "choose_format"  # the format of a file was not recognized: name it
    MAPPING_REQUIRED = "mapping_required"  # the generic format needs a mapping file
    MAPPING_WITHOUT_GENERIC = "mapping_without_generic"  # a mapping given for another format
    DESCRIBE_COLUMNS = "describe_columns"  # no known header: rename or map the columns
    EXCEL_PASSWORD = "excel_password"  # a protected workbook needs its password
    EXCEL_PASSWORD_WRONG = "excel_password_wrong"  # the workbook password given is wrong
    CREATE_WORKSPACE = "create_workspace"  # no workspace there: create one or point to it
    RECOVER_PASSPHRASE = "recover_passphrase"  # wrong passphrase: the recovery code resets it
    IMPORT_FIRST = "import_first"  # nothing imported yet
    VERIFY_AUDIT = "verify_audit"  # the audit log's end is damaged: check the whole log
    LIST_QUARANTINES = "list_quarantines"  # an unknown quarantine set: list the known ones
    AGENT = "agent"  # a dashboard kernel without its server's unlock agent: open it via serve
    LIST_PRACTITIONERS = "list_practitioners"  # an unknown practitioner id: list the known ones
    GIVE_SIREN = "give_siren"  # the FEC's file name needs the SIREN: give it or set it
    CHOOSE_PRACTITIONER = "choose_practitioner"  # one taxpayer per file: name the practitioner
    ADD_BACKUP = "add_backup"  # no backup destination yet: add one
    LIST_BACKUPS = "list_backups"  # an unknown or duplicate destination: list the known ones


class OsteoError(Exception):
    """Base class of every error this package raises on purpose.

    `hint` says what the person can do, when the fix depends on the surface.
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: Hint | None = None) -> None:
        super().__init__(message)
        self.hint = hint


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


class BackupError(OsteoError):
    """A backup destination cannot be added, written, checked or restored from (names it)."""


class AuditError(OsteoError):
    """The audit log is broken: a line was edited, deleted or reordered."""


class InvalidKeyError(VaultError):
    """An age recipient, identity or recovery code is malformed or of an unsupported kind."""

    exit_code = 2
