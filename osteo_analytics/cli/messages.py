"""Errors to messages: the one place that turns what the library reports into a line.

The library says what went wrong and may attach a `Hint`; this surface adds how to fix
it in its own words (options, commands, environment variables). `main()` prints the line
and exits with the error's code (DESIGN.md: 0 success, 1 failed, 2 bad usage or input).
"""

from __future__ import annotations

import sys

import click

from osteo_analytics.cli.tools import ENV_EXCEL_PASSWORD
from osteo_analytics.errors import Hint, OsteoError

# How to fix what the library reports, in this surface's words (options, commands,
# environment variables): the library only says what went wrong and gives a Hint.
# Each text follows the library's message on the same line.
ADVICE: dict[Hint, str] = {
    Hint.CHOOSE_FORMAT: " ; précisez le format avec --format",
    Hint.MAPPING_REQUIRED: (
        " : ajoutez --mapping M.yaml (un brouillon : osteo import --suggest-mapping FICHIER)"
    ),
    Hint.MAPPING_WITHOUT_GENERIC: " : retirez --mapping ou ajoutez --format generic",
    Hint.DESCRIBE_COLUMNS: (
        " ; renommez les colonnes ou décrivez-les dans un fichier de correspondance"
        " (--format generic --mapping M.yaml)"
    ),
    Hint.EXCEL_PASSWORD: (
        f" ; indiquez le mot de passe dans {ENV_EXCEL_PASSWORD} ou quand la commande le demande"
    ),
    Hint.EXCEL_PASSWORD_WRONG: f" ; vérifiez {ENV_EXCEL_PASSWORD} ou le mot de passe saisi",
    Hint.CREATE_WORKSPACE: " : créez-le avec `osteo init` ou indiquez le bon avec --workspace",
    Hint.RECOVER_PASSPHRASE: " (oubliée ? `osteo keys recover` avec le code de secours)",
    Hint.IMPORT_FIRST: " ; importez d'abord des données avec `osteo import`",
    Hint.VERIFY_AUDIT: " : lancez `osteo audit verify`",
    Hint.LIST_QUARANTINES: " ; `osteo quarantine list` donne celles de l'espace de travail",
    Hint.AGENT: " : ouvrez les tableaux de bord avec `osteo serve` (ou `osteo lab`)",
    Hint.LIST_PRACTITIONERS: (
        ' ; `osteo sql -c "SELECT * FROM practitioners"` donne ceux de l\'instantané'
    ),
    Hint.GIVE_SIREN: (
        " : indiquez --siren NUMÉRO, ou le réglage « siren » dans le config.toml de l'espace"
        " de travail"
    ),
    Hint.CHOOSE_PRACTITIONER: " ; précisez --practitioner ID (un fichier par praticien)",
    Hint.ADD_BACKUP: " : ajoutez-en une avec `osteo backup add NOM DOSSIER`",
    Hint.LIST_BACKUPS: " ; `osteo backup status` donne les destinations",
}


def describe(error: OsteoError) -> str:
    """The line a person reads: what went wrong, then how to fix it with this command line."""
    advice = ADVICE.get(error.hint, "") if error.hint is not None else ""
    return f"{error}{advice}"


def fail(message: str, code: int) -> None:
    click.echo(f"Erreur : {message}", err=True)
    sys.exit(code)
