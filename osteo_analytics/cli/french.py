"""French for click: help screens, usage errors and prompts of `osteo` in French.

Click marks the strings it prints for translation with the standard `gettext` module:
each of its modules does `from gettext import gettext as _` (and `ngettext`) and calls
them when it prints, and a few when a command is defined (the help of `version_option`,
the names of `click.Path` types). Plain gettext would choose the language from the
user's LANGUAGE, LC_ALL, LC_MESSAGES and LANG variables and read a compiled catalogue
of the process-wide "messages" domain: French would depend on the locale of the machine
(an osteopath's laptop set to English, a server in C.UTF-8) and the catalogue would
apply to every library in the process.

`install()` instead rebinds those two names, in click's own modules only, to the
catalogue below: French whatever the locale variables, nothing outside click touched.
It also renames click's parameter types (they become the metavars of help screens, such
as ENTIER, and appear in messages), which click does not translate. It must run before
any command is defined; `clitools` runs it on import, and every command module imports
`clitools` first.

A string missing here stays English: tests/test_click_fr.py compares the catalogue with
the `_()` and `ngettext()` calls of the installed click, so a click upgrade that adds or
rewords a string fails the tests instead of printing English.
"""

from __future__ import annotations

import gettext as _gettext
import importlib
import sys

# msgid (click's English text, exactly) -> French. Placeholders are filled by click with
# keyword arguments, so a translation may drop one or format it differently ({value!r}
# becomes « {value} »).
MESSAGES: dict[str, str] = {
    # help screens; click appends ":" to a section heading, hence the French space
    "Usage:": "Usage :",
    "Options": "Options ",
    "Commands": "Commandes ",
    "Positional arguments": "Arguments ",
    "Show this message and exit.": "Afficher ce message et quitter.",
    "Show the version and exit.": "Afficher la version et quitter.",
    "%(prog)s, version %(version)s": "%(prog)s, version %(version)s",
    "env var: {var}": "variable d'environnement : {var}",
    "default: {default}": "défaut : {default}",
    "required": "obligatoire",
    "(dynamic)": "(dynamique)",
    "deprecated": "obsolète",
    "Confirm the action without prompting.": "Confirmer l'action sans la demander.",
    # usage errors (printed after "Erreur : ")
    "Error: {message}": "Erreur : {message}",
    "Try '{command} {option}' for help.": "Essayez « {command} {option} » pour l'aide.",
    "Missing command.": "commande manquante.",
    "Missing argument": "argument manquant :",
    "Missing option": "option manquante :",
    "Missing parameter": "paramètre manquant :",
    "Missing {param_type}": "paramètre manquant ({param_type}) :",
    "Missing parameter: {param_name}": "paramètre manquant : {param_name}",
    "No such option {name!r}.": "option inconnue : « {name} ».",
    "No such command {name!r}.": "commande inconnue : « {name} ».",
    "Invalid value: {message}": "valeur invalide : {message}",
    "Invalid value for {param_hint}: {message}": "valeur invalide pour {param_hint} : {message}",
    "Option {name!r} does not take a value.": "l'option « {name} » ne prend pas de valeur.",
    "Argument {name!r} takes {nargs} values.": "l'argument « {name} » prend {nargs} valeurs.",
    "Invalid start character for option ({option})": (
        "caractère initial invalide pour une option ({option})"
    ),
    "Value must be an iterable.": "la valeur doit être une suite de valeurs.",
    "Choose from:\n\t{choices}": "Choisissez parmi :\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "« {value} » n'est pas un {number_type} valide.",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "« {value} » n'est pas un booléen valide. Valeurs reconnues : {states}"
    ),
    "{value!r} is not a valid UUID.": "« {value} » n'est pas un UUID valide.",
    "{name} {filename!r} does not exist.": "« {filename} » n'existe pas.",
    "{name} {filename!r} is a file.": "« {filename} » est un fichier, pas un dossier.",
    "{name} {filename!r} is a directory.": "« {filename} » est un dossier, pas un fichier.",
    "{name} {filename!r} is not readable.": "« {filename} » n'est pas lisible.",
    "{name} {filename!r} is not writable.": "« {filename} » n'est pas modifiable.",
    "{name} {filename!r} is not executable.": "« {filename} » n'est pas exécutable.",
    "Could not open file {filename!r}: {message}": (
        "impossible d'ouvrir le fichier « {filename} » : {message}"
    ),
    "unknown error": "erreur inconnue",
    "Choice({choices})": "Choix({choices})",
    # prompts and terminal
    "Repeat for confirmation": "Confirmez",
    "Error: The two entered values do not match.": (
        "Erreur : les deux saisies ne correspondent pas."
    ),
    "Error: invalid input": "Erreur : saisie invalide",
    "Do you want to continue?": "Voulez-vous continuer ?",
    "Press any key to continue...": "Appuyez sur une touche pour continuer…",
    "Aborted!": "Interrompu.",
    "d": "j",  # days, in a progress bar's remaining time
    "{editor}: Editing failed": "{editor} : échec de la modification",
    "{editor}: Editing failed: {e}": "{editor} : échec de la modification : {e}",
    "Unknown color {colour!r}": "couleur inconnue : {colour!r}",
    "Unknown standard stream '{name}'": "flux standard inconnu : « {name} »",
    "Windows error: {error}": "erreur Windows : {error}",
    "Couldn't detect Bash version, shell completion is not supported.": (
        "version de Bash inconnue : la complétion n'est pas prise en charge."
    ),
    "Shell completion is not supported for Bash versions older than 4.4.": (
        "la complétion n'est pas prise en charge avant Bash 4.4."
    ),
    # deprecation warnings and mistakes in a command's definition
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}": (
        "Avertissement : la commande « {name} » est obsolète.{extra_message}"
    ),
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}": (
        "Avertissement : le paramètre « {name} » est obsolète.{extra_message}"
    ),
    "Name '{name}' defined twice": "nom « {name} » défini deux fois",
    "Boolean option {decl!r} cannot use the same flag for true/false.": (
        "l'option booléenne {decl!r} ne peut pas avoir la même forme pour vrai et faux."
    ),
    "Could not determine name for option with declarations {decls!r}": (
        "impossible de nommer l'option déclarée par {decls!r}"
    ),
    "No options defined but a name was passed ({name}). Did you mean to declare an argument"
    " instead? Did you mean to pass '--{name}'?": (
        "aucune option déclarée mais un nom donné ({name}) : un argument était-il voulu,"
        " ou '--{name}' ?"
    ),
    "Arguments take exactly one parameter declaration, got {length}: {decls}.": (
        "un argument prend exactement une déclaration, reçu {length} : {decls}."
    ),
    # names of click's parameter types (metavars in help screens, words in messages)
    "file": "fichier",
    "directory": "dossier",
    "path": "chemin",
    "text": "texte",
    "integer": "entier",
    "integer range": "entier",
    "float": "nombre",
    "float range": "nombre",
    "boolean": "booléen",
    "datetime": "date",
    "choice": "choix",
    "filename": "fichier",
    "uuid": "uuid",
}

# (singular msgid, plural msgid) -> (French singular, French plural). French uses the
# singular for 0 and 1.
PLURALS: dict[tuple[str, str], tuple[str, str]] = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"): (
        "argument en trop ({args})",
        "arguments en trop ({args})",
    ),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"): (
        "Vouliez-vous dire {possibility} ?",
        "(Vouliez-vous dire l'un de : {possibilities} ?)",
    ),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."): (
        "« {value} » n'est pas {choice}.",
        "« {value} » n'est pas l'un de : {choices}.",
    ),
    (
        "{value!r} does not match the format {format}.",
        "{value!r} does not match the formats {formats}.",
    ): (
        "« {value} » ne correspond pas au format {format}.",
        "« {value} » ne correspond à aucun des formats {formats}.",
    ),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."): (
        "l'option « {name} » demande une valeur.",
        "l'option « {name} » demande {nargs} valeurs.",
    ),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."): (
        "{nargs} valeurs attendues mais {len} donnée.",
        "{nargs} valeurs attendues mais {len} données.",
    ),
    (
        "{len_type} values are required, but {len_value} was given.",
        "{len_type} values are required, but {len_value} were given.",
    ): (
        "{len_type} valeurs attendues, mais {len_value} donnée.",
        "{len_type} valeurs attendues, mais {len_value} données.",
    ),
}

# Click imports these lazily (progress bars, editor, shell completion): load them now so
# that they are translated too. (_winconsole exists only on Windows, where click imports
# it at start-up.)
_LAZY_MODULES = ("click.shell_completion", "click._termui_impl")


def gettext(message: str) -> str:
    """The French text of one of click's messages (the English one if unknown)."""
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The French text of one of click's plural messages, chosen for `n`."""
    forms = PLURALS.get((singular, plural))
    if forms is None:
        return singular if n == 1 else plural
    return forms[1] if n > 1 else forms[0]


def install() -> None:
    """Make click speak French in this process (idempotent; see the module docstring)."""
    import click.types

    for name in _LAZY_MODULES:
        importlib.import_module(name)
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "click" or name.startswith("click.")):
            continue
        for attr, original, french in (
            ("_", _gettext.gettext, gettext),
            ("gettext", _gettext.gettext, gettext),
            ("ngettext", _gettext.ngettext, ngettext),
        ):
            if getattr(module, attr, None) is original:
                setattr(module, attr, french)
    for value in list(vars(click.types).values()):
        if (
            isinstance(value, type)
            and issubclass(value, click.types.ParamType)
            and isinstance(value.__dict__.get("name"), str)
        ):
            value.name = gettext(value.__dict__["name"])
