"""The Voila process of `osteo serve`: `python -m osteo_analytics.serve.voila ROOT PORT [0|1]`
(the last argument: preheated kernels, 1 unless a benchmark measures cold starts).

Run by `serve.Server`, never by hand. Everything that matters for safety is set here in
code, none of it from a command line or a config file a local user could change:

- the token comes from `JUPYTER_TOKEN` in this process's environment and is removed from
  it before any kernel starts (kernels inherit the server's environment);
- `Voila.ip = 127.0.0.1` (Voila 0.5 has no `--ip` alias), `config_file_paths = []` (no
  config file of the machine or the user is read), `allow_remote_access = False` (Voila
  hard-codes True; tornado settings override it: the Host header must name this machine,
  against DNS rebinding);
- `strip_sources`, `show_tracebacks = False`, `file_allowlist = []` (in Voila 0.5 the
  allowlist is what guards `/voila/files/`; `file_blacklist`/`file_whitelist` do nothing),
  preheated kernels, no progressive rendering (charts inside an `Output` never show with it);
- the landing page `/` (French, lists the apps) is where the tokenized URL leads: it sets
  the login cookie, so the apps' render URLs carry no token (Voila copies a render URL's
  query string into the kernel's environment);
- kernels: this Python's own, over Unix sockets in the private runtime folder
  (`serve/kernels.py`);
- the page template is Voila's lab template without its two stylesheets from a public CDN:
  the apps load nothing from any host but this one.
"""

from __future__ import annotations

import html
import os
import sys
from pathlib import Path
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.log import log_request
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.httputil import split_host_and_port
from traitlets.config import Config
from voila.app import Voila
from voila.request_info_handler import RequestInfoSocketHandler

from osteo_analytics.serve.kernels import configure_kernels

TEMPLATES = Path(__file__).parent / "templates"
APP_TITLES = {
    "revenue": ("Recettes", "CA encaissé et facturé, moyens de paiement, impayés"),
    "activity": ("Activité", "consultations, patients, motifs, agenda"),
    "quality": ("Qualité et conservation", "imports, quarantaine, durée légale, sauvegardes"),
    "accountant": ("Comptabilité", "factures, recettes, livre-journal, FEC"),
}
LANDING = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>osteo-analytics : tableaux de bord</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 3rem auto; max-width: 40rem;
       padding: 0 1rem; color: #1d2731; }}
h1 {{ font-size: 1.5rem; }}
a.app {{ display: block; padding: 1rem 1.2rem; margin: .8rem 0; border: 1px solid #c9d3dd;
        border-radius: .5rem; text-decoration: none; color: inherit; }}
a.app:hover, a.app:focus {{ border-color: #0072b2; background: #f2f7fb; }}
a.app strong {{ display: block; font-size: 1.15rem; color: #0072b2; }}
p.note {{ color: #5b6b7a; font-size: .9rem; }}
</style></head>
<body><h1>Tableaux de bord du cabinet</h1>
{links}
<p class="note">Servi sur cet ordinateur seulement (127.0.0.1). Les données sont déchiffrées
en mémoire ; fermez la commande <code>osteo serve</code> pour tout arrêter.</p>
</body></html>
"""


class LandingHandler(JupyterHandler):
    """`/`: the apps served, as links; reached with the token, it sets the login cookie."""

    def initialize(self, apps: list[str]) -> None:
        self.apps = apps

    @web.authenticated
    def get(self) -> None:
        links = "\n".join(
            f'<a class="app" href="{html.escape(self.app_url(app))}">'
            f"<strong>{html.escape(APP_TITLES[app][0])}</strong>"
            f"{html.escape(APP_TITLES[app][1])}</a>"
            for app in self.apps
        )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(LANDING.format(links=links))

    def app_url(self, app: str) -> str:
        return url_path_join(self.base_url, "voila/render", f"{app}.ipynb")


class LocalRequestInfoHandler(RequestInfoSocketHandler):
    """Voila's `/voila/query/<kernel>` websocket (a preheated kernel waits there for its
    page's request) with the Host check it lacks: it is no JupyterHandler, and the kernel
    itself connects without a cookie, so only the Host header can keep a rebinding page out.
    """

    def prepare(self) -> None:
        host, _ = split_host_and_port(self.request.host.lower())
        if host not in ("127.0.0.1", "localhost"):
            raise web.HTTPError(403)


class OsteoVoila(Voila):
    """Voila with the landing page first, the Host check everywhere, no CDN template."""

    def setup_template_dirs(self) -> None:
        super().setup_template_dirs()
        self.template_paths.insert(0, str(TEMPLATES / "osteo"))

    def init_handlers(self) -> list[Any]:
        served = {p.stem for p in Path(self.root_dir).glob("*.ipynb")}
        apps = [app for app in APP_TITLES if app in served]
        landing = (url_path_join(self.server_url, "/?"), LandingHandler, {"apps": apps})
        handlers = [
            (route[0], LocalRequestInfoHandler, *route[2:])
            if route[1] is RequestInfoSocketHandler
            else route
            for route in super().init_handlers()
        ]
        return [landing, *handlers]


def configure(root: Path, port: int, token: str, *, preheat: bool = True) -> Config:
    """The whole configuration, in code."""
    config = Config()
    config.Voila.root_dir = str(root)
    config.Voila.ip = "127.0.0.1"
    config.Voila.port = port
    config.Voila.port_retries = 0
    config.Voila.open_browser = False
    config.Voila.token = token
    config.Voila.config_file_paths = []
    configure_kernels(config)
    config.Voila.tornado_settings = {
        "allow_remote_access": False,
        "local_hostnames": ["localhost"],
        "xsrf_cookies": True,
        # Jupyter's request log, which scrubs `token=` from the URLs it writes; Voila
        # leaves Tornado's, which would write a refused request's token into `--log`.
        "log_function": log_request,
    }
    # A kernel whose page was closed without a word (a crashed tab, a script) is stopped
    # after 10 idle minutes; a kernel with its page open is never culled.
    config.MappingKernelManager.cull_idle_timeout = 600
    config.MappingKernelManager.cull_interval = 60
    config.MappingKernelManager.cull_connected = False
    voila = config.VoilaConfiguration
    voila.template = "lab"
    voila.theme = "light"
    voila.strip_sources = True
    voila.show_tracebacks = False
    voila.file_allowlist = []
    voila.preheat_kernel = preheat
    voila.default_pool_size = 1
    voila.progressive_rendering = False
    voila.show_margins = True
    return config


def main(argv: list[str]) -> None:
    root, port, preheat = Path(argv[0]), int(argv[1]), argv[2:] != ["0"]
    token = os.environ.pop("JUPYTER_TOKEN", "")
    if len(token) < 32:
        sys.exit("osteo serve: jeton absent ou trop court")
    app = OsteoVoila(config=configure(root, port, token, preheat=preheat))
    app.initialize([])
    app.start()


if __name__ == "__main__":
    main(sys.argv[1:])
