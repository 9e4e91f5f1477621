"""Great Expectations Data Docs that render with no network.

GX 1.x page templates load Bootstrap, jQuery, bootstrap-table, Font Awesome, ... from CDNs
and its logo from S3. Offline, the index's list (drawn by bootstrap-table) stays empty and the
validation pages lose their pass/fail marks (Font Awesome icons); behind a firewall that
drops packets, each page also waits for its blocking `<script>` tags to time out.

`make_offline(site_dir)` runs after every Data Docs build (`orchestration.lib.quality`):

- copies the vendored files of `expectations/data_docs_assets/` (the exact files the
  templates reference, from the npm registry; see the README there) into
  `<site>/static/vendor/`;
- rewrites every page's CDN `<script>` / `<link>` to the relative path of its vendored copy,
  dropping `integrity` / `crossorigin` (a `file://` page cannot load a script in CORS mode;
  the vendored copies of the two files that carry an integrity hash match it, see
  tests/test_offline_docs.py), and the logo to GX's own copy in `static/images/`;
- removes the Vega scripts from pages that draw no chart (our suites use no expectation GX
  draws a chart for; Vega, ~830 kB, is not vendored).

It returns the network references left in the pages (none for GX's current templates); a
page that draws a Vega chart, or a template that a GX upgrade changed, is named there.
Rewriting is idempotent: a page already rewritten is left as it is.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
from pathlib import Path

from orchestration.lib.settings import EXPECTATIONS_DIR

ASSETS_DIR = EXPECTATIONS_DIR / "data_docs_assets"
VENDOR_DIR = Path("static") / "vendor"  # inside the Data Docs site

# Every CDN file GX 1.x's page templates reference -> its vendored copy under ASSETS_DIR.
ASSETS: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap-4.3.1/dist/css/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap-4.3.1/dist/js/bootstrap.min.js"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js-1.12.9/dist/umd/popper.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table-1.19.1/dist/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table-1.19.1/dist/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table-1.19.1/dist/extensions/filter-control/"
        "bootstrap-table-filter-control.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": (
        "bootstrap-table-1.19.0/dist/extensions/filter-control/"
        "bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": (
        "bootstrap-table-1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome-free-6.6.0/css/all.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker-1.9.0/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker-1.9.0/dist/js/bootstrap-datepicker.min.js",
    # The minified build of the same file (the template loads the 880 kB unminified one).
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "bootstrap-dark-1.1.0/dist/css/bootstrap-prefers-dark.min.css",
}
# Files a vendored stylesheet loads by itself (Font Awesome's `../webfonts/`; the brands font
# and the .ttf fallbacks are left out: GX draws no brand icon and browsers take the woff2).
FONTS = (
    "fontawesome-free-6.6.0/webfonts/fa-solid-900.woff2",
    "fontawesome-free-6.6.0/webfonts/fa-regular-400.woff2",
    "fontawesome-free-6.6.0/webfonts/fa-v4compatibility.woff2",
)
# Scripts only pages with a chart need (GX's graph.j2 calls vegaEmbed).
CHART_SCRIPTS = frozenset(
    {
        "https://cdn.jsdelivr.net/npm/vega@5",
        "https://cdn.jsdelivr.net/npm/vega-lite@5",
        "https://cdn.jsdelivr.net/npm/vega-embed@6",
    }
)
CHART_CALL = "vegaEmbed("
# GX's logo on S3 (with a tracking query string) -> the copy GX puts into every site.
GX_LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/"
    r"(?:logo-long|full_logo_dark)\.png(?:\?[^\"'()\s]*)?"
)
LOCAL_LOGO = Path("static") / "images" / "logo-long.png"

_TAG = re.compile(r"<(script|link)\b[^>]*>", re.IGNORECASE)
_URL_ATTRIBUTE = re.compile(r"\b(src|href)\s*=\s*\"([^\"]*)\"", re.IGNORECASE)
_CORS_ATTRIBUTES = re.compile(r"\s+(?:integrity|crossorigin)(?:\s*=\s*\"[^\"]*\")?", re.IGNORECASE)
_CLOSING_SCRIPT = re.compile(r"\s*</script>", re.IGNORECASE)
# What a page loads (not links a reader may follow): scripts, stylesheets and icons, images,
# frames and CSS url(...), from http(s) or protocol-relative addresses.
_NETWORK_REFERENCE = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*[\"']((?:https?:)?//[^\"']+)"
    r"|url\(\s*[\"']?((?:https?:)?//[^\"')]+)",
    re.IGNORECASE,
)


class MissingAssetsError(FileNotFoundError):
    """The vendored files are not where `ASSETS_DIR` says."""


def network_references(html: str) -> list[str]:
    """The addresses on the network a page loads (scripts, styles, images, fonts, frames)."""
    return [script or css for script, css in _NETWORK_REFERENCE.findall(html)]


def copy_assets(site_dir: Path, assets_dir: Path = ASSETS_DIR) -> Path:
    """Copy the vendored files into `<site_dir>/static/vendor/` (only those that changed)."""
    target = Path(site_dir) / VENDOR_DIR
    for relative in (*ASSETS.values(), *FONTS):
        source = assets_dir / relative
        if not source.is_file():
            raise MissingAssetsError(
                f"vendored Data Docs file {source} is missing: restore "
                f"expectations/data_docs_assets/ from the repository (git checkout -- "
                f"expectations/data_docs_assets); its README says where each file comes from"
            )
        _copy_if_changed(source, target / relative)
    for licence in assets_dir.glob("*/LICENSE*"):
        _copy_if_changed(licence, target / licence.relative_to(assets_dir))
    return target


def _copy_if_changed(source: Path, destination: Path) -> None:
    if destination.is_file() and filecmp.cmp(source, destination, shallow=True):
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, destination)


def rewrite_page(html: str, prefix: str) -> str:
    """`html` with its CDN files pointing at `<prefix>/static/vendor/...` (`prefix` is the
    page's relative path to the site root, e.g. `.` or `../..`), the logo at GX's local copy
    and the Vega scripts dropped when the page draws no chart."""
    vendor = f"{prefix}/{VENDOR_DIR.as_posix()}"
    has_chart = CHART_CALL in html
    pieces: list[str] = []
    position = 0
    for tag in _TAG.finditer(html):
        attribute = _URL_ATTRIBUTE.search(tag.group(0))
        url = attribute.group(2) if attribute else None
        if url in ASSETS:
            local = f"{vendor}/{ASSETS[url]}"
            new_tag = _CORS_ATTRIBUTES.sub("", tag.group(0).replace(f'"{url}"', f'"{local}"'))
            pieces += [html[position : tag.start()], new_tag]
            position = tag.end()
        elif url in CHART_SCRIPTS and not has_chart:
            pieces.append(html[position : tag.start()])
            closing = _CLOSING_SCRIPT.match(html, tag.end())
            position = closing.end() if closing else tag.end()
    pieces.append(html[position:])
    return GX_LOGO.sub(f"{prefix}/{LOCAL_LOGO.as_posix()}", "".join(pieces))


def make_offline(site_dir: Path, assets_dir: Path = ASSETS_DIR) -> dict[str, list[str]]:
    """Make the Data Docs site in `site_dir` render with no network (see the module doc).

    Returns, per page (path relative to the site), the network references still left in it:
    empty when every page renders offline.
    """
    site_dir = Path(site_dir)
    vendor = copy_assets(site_dir, assets_dir)
    left: dict[str, list[str]] = {}
    for page in sorted(site_dir.rglob("*.html")):
        if vendor in page.parents:
            continue
        html = page.read_text(encoding="utf-8")
        prefix = Path(os.path.relpath(site_dir, page.parent)).as_posix()
        rewritten = rewrite_page(html, prefix)
        if rewritten != html:  # replaced whole: a reader never sees half a page
            partial = page.with_name(f".{page.name}.offline.tmp")
            partial.write_text(rewritten, encoding="utf-8")
            os.replace(partial, page)
        remaining = network_references(rewritten)
        if remaining:
            left[page.relative_to(site_dir).as_posix()] = remaining
    return left
