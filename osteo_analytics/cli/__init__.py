"""The `osteo` command line: the only place (with the dashboards) that turns errors into messages.

Exit codes (DESIGN.md): 0 success, 1 the operation failed, 2 bad usage or unreadable input.
Secrets never come from arguments: hidden prompts or environment variables only.
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path

import click

from osteo_analytics import __version__
from osteo_analytics.cli.messages import describe, fail
from osteo_analytics.cli.tools import EnvVarOption, Group
from osteo_analytics.errors import OsteoError
from osteo_analytics.settings import ENV_WORKSPACE, resolve_workspace

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=Group, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="osteo")
@click.option(
    "--workspace",
    cls=EnvVarOption,
    type=click.Path(file_okay=False, path_type=Path),
    envvar=ENV_WORKSPACE,
    show_envvar=True,
    help="Dossier de travail (clés, instantanés chiffrés, journal d'audit). "
    "Par défaut : le dossier de données de l'utilisateur.",
)
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None) -> None:
    """osteo-analytics : les chiffres du cabinet d'ostéopathie, chiffrés et pseudonymisés.

    Importe les exports du cabinet, les conserve en instantanés chiffrés (age) et affiche
    les tableaux de bord de recettes et d'activité. Rien de lisible n'est écrit sur le disque.
    """
    ctx.obj = {"workspace": resolve_workspace(workspace)}


def _register_commands() -> None:
    """One module per command group (this package), added in the order `--help` lists."""
    from osteo_analytics.cli.audit import audit
    from osteo_analytics.cli.backup import backup
    from osteo_analytics.cli.demo import demo
    from osteo_analytics.cli.export import export
    from osteo_analytics.cli.imports import import_, synth
    from osteo_analytics.cli.keys import init, keys
    from osteo_analytics.cli.lab import lab
    from osteo_analytics.cli.metrics import metrics, sql
    from osteo_analytics.cli.quarantine import quarantine
    from osteo_analytics.cli.serve import serve
    from osteo_analytics.cli.share import share

    commands = (
        synth,
        init,
        keys,
        import_,
        audit,
        demo,
        metrics,
        sql,
        export,
        share,
        quarantine,
        serve,
        lab,
        backup,
    )
    for command in commands:
        cli.add_command(command)


_register_commands()


def main() -> None:
    """Console entry point: run the group, turn every error into one line and an exit code."""
    try:
        code = _run()
    except SystemExit as exc:  # fail(), click's --help and --version
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    _leave(code)


def _run() -> int:
    try:
        cli.main(prog_name="osteo", standalone_mode=False)
    except click.exceptions.Abort:
        fail("interrompu.", 1)
    except click.ClickException as exc:
        exc.show()
        return 2
    except OsteoError as exc:
        fail(describe(exc), exc.exit_code)
    except KeyboardInterrupt:
        fail("interrompu.", 1)
    except Exception as exc:  # a bug: say so in one line; the traceback only on request
        if os.environ.get("OSTEO_DEBUG"):
            raise
        fail(
            f"erreur interne ({exc.__class__.__name__}). Relancez avec OSTEO_DEBUG=1 "
            "pour le détail et signalez-la.",
            1,
        )
    return 0


def _leave(code: int) -> None:
    """Exit with `code` once Python's own exit work is done, skipping C++ static destructors.

    Arrow's thread pools can abort the process when they are torn down at exit while a
    worker thread is still alive ("terminate called without an active exception", exit
    -6, apache/arrow#34314): a command that had succeeded and printed everything would
    then report a crash. The atexit handlers (temporary files, weakref finalizers) run
    and both streams are flushed first, so nothing Python would do at exit is lost.
    """
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`osteo … | head`): nothing to flush to
            code = code or 1
    os._exit(code)
