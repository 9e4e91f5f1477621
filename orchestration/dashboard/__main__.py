"""`python -m orchestration.dashboard [--build-only] [--port N] [--out DIR]`.

Generates the dashboard from the published file (SALES_KPI_PUBLISHED_DB) into
SALES_KPI_DASHBOARD_DIR (default warehouse/dashboard) and serves it on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import sys
import time
from pathlib import Path

from orchestration.dashboard.data import PublishedFileMissing
from orchestration.dashboard.site import PAGES, build_dashboard
from orchestration.lib.settings import Settings


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # one line per page, not per asset
        if self.path.endswith(".html") or self.path == "/":
            super().log_message(format, *args)


def default_out(settings: Settings) -> Path:
    value = os.environ.get("SALES_KPI_DASHBOARD_DIR")
    path = Path(value) if value else Path("warehouse/dashboard")
    return (path if path.is_absolute() else settings.home / path).resolve()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.dashboard", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("DASHBOARD_PORT", 8050)))
    parser.add_argument("--out", type=Path, default=None, help="folder to write the site to")
    parser.add_argument("--build-only", action="store_true", help="write the pages, do not serve")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    out = (args.out or default_out(settings)).resolve()
    started = time.monotonic()
    try:
        pages = build_dashboard(settings.published_db, out, settings.extra_dbt_vars)
    except PublishedFileMissing as error:
        print(error, file=sys.stderr)
        return 1
    print(
        f"Dashboard written to {out} from {settings.published_db} "
        f"({len(pages)} pages, {time.monotonic() - started:.1f} s)."
    )
    if args.build_only:
        return 0
    url = f"http://127.0.0.1:{args.port}/"
    print(f"Serving it on {url} (offline, static files; Ctrl-C stops):")
    for page in PAGES:
        print(f"  {url}{page.file:<18} {page.title} {page.title_ja}")
    print("Run `make dashboard` again after a new run to see its numbers.", flush=True)
    handler = functools.partial(_QuietHandler, directory=str(out))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    except OSError as error:
        print(
            f"Cannot listen on 127.0.0.1:{args.port} ({error.strerror}): another process uses "
            "it; run `make dashboard DASHBOARD_PORT=8051` (or stop that process).",
            file=sys.stderr,
        )
        return 1
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("\nDashboard server stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
