"""`osteo share`: a period's finance-only bundle, encrypted to an accountant's key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from osteo_analytics.cli.tools import unlock
from osteo_analytics.errors import UsageError

_RECIPIENT_PREFIX = "age1"


def split_to(values: tuple[str, ...]) -> tuple[str, dt.date | None]:
    """`--to` is both the recipient (`age1…`) and, with `--from`, the last day (AAAA-MM-JJ),
    as DESIGN.md writes the command: tell them apart by their form."""
    recipients = [v for v in values if v.strip().lower().startswith(_RECIPIENT_PREFIX)]
    dates = [v for v in values if v not in recipients]
    if len(recipients) != 1:
        raise UsageError(
            "--to age1… : donnez une et une seule clé publique du comptable "
            "(celle qu'affiche `osteo keys new --role accountant`)"
        )
    if len(dates) > 1:
        raise UsageError("--to : une seule date de fin (AAAA-MM-JJ)")
    end = None
    if dates:
        try:
            end = dt.date.fromisoformat(dates[0].strip())
        except ValueError:
            raise UsageError(
                f"--to « {dates[0][:20]} » : ni une clé age1… ni une date AAAA-MM-JJ"
            ) from None
    return recipients[0].strip(), end


def period(year: int | None, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The period of `--year`, or of `--from` and `--to` (one or the other)."""
    if year is not None:
        if start is not None or end is not None:
            raise UsageError("--year ou --from/--to, pas les deux")
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if start is None or end is None:
        raise UsageError("période : --year AAAA, ou --from AAAA-MM-JJ et --to AAAA-MM-JJ")
    if start > end:
        raise UsageError("--from est après --to : la période est vide")
    return start, end


@click.command()
@click.option(
    "--to",
    "to",
    multiple=True,
    required=True,
    metavar="age1…|AAAA-MM-JJ",
    help="La clé publique du comptable (age1…) ; avec --from, aussi le dernier jour.",
)
@click.option("--year", type=click.IntRange(1900, 2999), help="L'année civile à partager.")
@click.option("--from", "from_", type=click.DateTime(formats=["%Y-%m-%d"]), help="Premier jour.")
@click.option("--practitioner", help="Un seul praticien (chacun est un contribuable distinct).")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Le fichier chiffré à écrire (par exemple lot-2025.age).",
)
@click.pass_context
def share(
    ctx: click.Context,
    to: tuple[str, ...],
    year: int | None,
    from_: dt.datetime | None,
    practitioner: str | None,
    out: Path,
) -> None:
    """Chiffre pour le comptable les factures, paiements et praticiens d'une période.

    Rien de clinique, aucun nom de patient : chaque patient n'est qu'un pseudonyme propre
    à ce comptable. Le fichier est chiffré pour sa clé et pour celle du cabinet ; le
    partage est inscrit au journal d'audit.
    """
    from osteo_analytics.share import create_share

    recipient, end = split_to(to)
    start, end = period(year, from_.date() if from_ else None, end)
    if out.exists() and out.is_dir():
        raise UsageError(f"{out} est un dossier : donnez un nom de fichier")
    if not out.parent.is_dir():
        raise UsageError("--out : le dossier du fichier n'existe pas ; créez-le d'abord")
    unlocked = unlock(ctx)
    result = create_share(
        unlocked,
        recipient=recipient,
        date_from=start,
        date_to=end,
        practitioner=practitioner,
        out=out,
    )
    rows = result.manifest.rows
    click.echo(
        f"Lot écrit : {out} ({rows['invoices']} factures, {rows['payments']} paiements, "
        f"du {start:%d/%m/%Y} au {end:%d/%m/%Y})"
    )
    if not rows["invoices"] and not rows["payments"]:
        click.echo(
            "Attention : aucune facture ni aucun paiement dans cette période : le lot est vide.",
            err=True,
        )
    if result.manifest.payments_unattributed:
        click.echo(
            f"Attention : {result.manifest.payments_unattributed} paiement(s) de la période "
            "sans facture connue n'ont pu être attribués à ce praticien : "
            "ils ne sont pas dans le lot.",
            err=True,
        )
