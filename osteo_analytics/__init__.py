"""osteo-analytics: encrypted, pseudonymized practice analytics for French osteopaths.

Layout, in data-flow order (DESIGN.md "Data flow"). A module imports only the modules
listed before it, never one after it (tests/test_layout.py); the foundation is the
vocabulary every stage reads.

Foundation
    errors.py                     typed errors of the library; a `Hint` says how to fix one
    atomic.py                     crash-safe writes: temporary file, fsync, rename
    formatting.py                 French figures for people: `1 234,50 €`, counts, months
    settings.py                   the practice's config.toml: names, defaults, checks
    contracts/                    the data contracts (ODCS v3.1, `data_contracts/`)
    contracts/sql.py              SQL text of the contract rules (quoting, predicates)
    contracts/model.py            contracts read into typed objects: columns, code lists, labels
    pseudonymize/                 invariant 3: nothing identifying after this stage
    pseudonymize/primitives.py    keyed pseudonyms, generated numbers, birth year, département
    pseudonymize/motifs.py        free-text reasons → a controlled motif category
Raw exports
    synthetic/                    a deterministic demo practice, written as raw exports
    synthetic/vocab.py            French names, streets, motifs the generator draws from
    synthetic/people.py           the office, its practitioners and patients
    synthetic/model.py            the simulation: appointments, invoices, money, day by day
    synthetic/truth.py            the ground truth, aggregated while generating
    synthetic/xlsx.py             a streaming XLSX writer shaped like openpyxl's output
    synthetic/libreosteo_format.py  column layouts of LibreOsteo's exports
    synthetic/libreosteo_writer.py  the practice as LibreOsteo exports
    synthetic/ledger_writer.py    the practice as a hand-kept receipts ledger
    synthetic/worker.py           a worker process writing some of the files
Stage 1: read (memory only, identity in clear)
    sources/                      the adapters, and format detection for `--format auto`
    sources/base.py               what every adapter returns: stage-1 tables, file reports
    sources/files.py              files of every adapter: sniffed by content, decoded, decrypted
    sources/frenchparse.py        French dates, amounts, payment means as people type them
    sources/tables.py             typed stage-1 records → the tables; practitioner roles
    sources/libreosteo/           LibreOsteo CSV/XLSX exports
    sources/libreosteo/files.py   their files: sniffing, headers, rows, cells
    sources/libreosteo/rows.py    their rows → records, one reader per export
    sources/ledger/               home-made French receipts ledgers (livre des recettes)
    sources/ledger/files.py       ledger files → sheets of raw rows
    sources/ledger/layout.py      what a ledger looks like: headers, titles, totals
    sources/ledger/rows.py        ledger rows → receipts, every row accounted for
    sources/generic/              any sheet described by a mapping file
    sources/generic/mapping.py    mapping files: schema and strict loading
    sources/generic/files.py      the sheet → header and numbered rows
    sources/generic/values.py     home-made cell values → canonical values
    sources/generic/records.py    visits, shared with the Word adapter → stage-1 records
    sources/generic/suggest.py    a draft mapping from a sheet's headers
    sources/docx/                 Word patient files, one per patient
    sources/docx/parse.py         their text rules: identity, details, visit lines
Stage 2: pseudonymize, validate, encrypt, store
    pseudonymize/stage.py         stage-1 tables → canonical pseudonymized tables
    contracts/checks.py           every contract rule run as DuckDB SQL: failing rows, no values
    vault.py                      age v1 recipes: bytes in, bytes out
    keys.py                       the workspace secrets, recovery code, passphrase policy
    snapshots.py                  encrypted Parquet snapshots with a verified manifest
    audit.py                      the append-only, hash-chained audit log
    workspace.py                  the workspace on disk: keys, snapshots, unlocking, rotation
    import_reports.py             what each import read, file by file, encrypted
    ingest.py                     `osteo import`: read → pseudonymize → check → merge → snapshot
    quarantine.py                 the rows an import set aside, encrypted, read back
    agent.py                      the unlocked secrets lent to dashboard kernels over a socket
    backup.py                     the workspace backed up with restic: run, check, status, restore
Stage 3: analyse
    warehouse.py                  a snapshot decrypted in memory into a locked DuckDB
    share.py                      accountant bundles: finance-only, re-keyed, age to their key
    metrics/                      one function per SQL file of metrics/sql/, frames out
Surfaces
    exports.py                    the accountant's files of a year: livre-journal, FEC, workbook
    dashboards/                   the apps' pages: KPI tiles and plotly figures
    dashboards/page.py            filters, pages and sections; the one way a page calls a metric
    dashboards/theme.py           the one plotly template, palette, French labels and locale
    dashboards/tiles.py           the six KPI tiles against the same period a year earlier
    dashboards/revenue.py         revenue app: encaissé, facturé, methods, fees, unpaid
    dashboards/activity.py        activity app: consultations, patients, returns, when, who
    dashboards/quality.py         quality app: imports file by file, retention, backups
    dashboards/app.py             the apps in a notebook: filter widgets, checked, and outputs
    dashboards/accountant.py      accountant app: invoices, numbering, receipts, 2035, micro-BNC
    report.py                     terminal reports of imports and of the generator
    serve/                        `osteo serve`: agent, private runtime folder, Voila process
    serve/kernels.py              the servers' kernels: this Python's, over Unix sockets
    serve/voila.py                the Voila process: token, 127.0.0.1, landing page, no CDN
    serve/lab.py                  the JupyterLab process of `osteo lab`: saves without outputs
    demo.py                       `osteo demo`: the main job on the demo practice
    cli/                          `osteo`: the group, `main()` and exit codes
    cli/french.py                 click's messages in French
    cli/tools.py                  secrets from a variable or a hidden prompt, unlocking
    cli/messages.py               errors → one line with how to fix it, in one place
    cli/output.py                 tables printed as rich, JSON or CSV
    cli/keys.py                   `osteo init`, `osteo keys`
    cli/imports.py                `osteo import`, `osteo synth`
    cli/audit.py                  `osteo audit`
    cli/demo.py                   `osteo demo`
    cli/metrics.py                `osteo metrics`, `osteo sql`
    cli/export.py                 `osteo export`
    cli/quarantine.py             `osteo quarantine`
    cli/serve.py                  `osteo serve`
    cli/lab.py                    `osteo lab`
    cli/share.py                  `osteo share`
    cli/backup.py                 `osteo backup`
    cli/__main__.py               `python -m osteo_analytics.cli`
"""

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
