"""GX Data Docs render with no network (orchestration/lib/offline_docs.py, run by quality.py
after every Data Docs build), and the dbt docs open on a project overview."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import duckdb
import great_expectations
import pytest

from orchestration.lib import offline_docs
from orchestration.lib.dbt_manifest import ensure_manifest
from orchestration.lib.offline_docs import (
    ASSETS,
    ASSETS_DIR,
    CHART_SCRIPTS,
    FONTS,
    GX_LOGO,
    MissingAssetsError,
    make_offline,
    network_references,
    rewrite_page,
)
from orchestration.lib.quality import load_suites, validate
from tests.browser import rendered_dom

GX_TEMPLATES = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
ASSET_BUDGET_BYTES = 1_300_000

# Appended to a copy of a page: after the page's scripts and fonts are done, it writes what a
# reader sees into the DOM: each table body row's text and its icons, whether an icon is drawn
# (Font Awesome's glyph in its ::before, a box with a width) and which web fonts loaded.
PROBE = """<script>
window.addEventListener('load', () => document.fonts.ready.then(() => {
  const icon = (i) => {
    const before = getComputedStyle(i, '::before');
    return {classes: i.className, content: before.content, font: before.fontFamily,
            width: i.getBoundingClientRect().width};
  };
  const rows = [...document.querySelectorAll('table tbody tr')].map((row) => ({
    text: row.innerText, icons: [...row.querySelectorAll('i.fas')].map(icon)}));
  const fonts = [...document.fonts].filter((f) => f.status === 'loaded')
    .map((f) => f.family.replaceAll('"', '') + ' ' + f.weight);
  const out = document.createElement('pre');
  out.id = 'offline-probe';
  out.textContent = JSON.stringify({rows, fonts});
  document.body.appendChild(out);
}));
</script>"""


def _write_suite(root: Path, table: str, expectations: list[dict]) -> None:
    path = root / "marts" / f"{table}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    suite = {"table": table, "layer": "marts", "description": "t", "expectations": expectations}
    path.write_text(json.dumps(suite), encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Data Docs built twice into one folder, as a pipeline run does per asset check:
    marts.kpi_rates fails (rate 1.5 is above 1, the not-null check passes), then
    marts.dim_reps passes; the second build rewrites the index again."""
    base = tmp_path_factory.mktemp("offline_docs")
    database = base / "working.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.kpi_rates as select * from (values (0.25), (1.5)) t(rate)")
        con.execute("create table marts.dim_reps as select * from (values ('r1')) t(rep_id)")
    suites_dir = base / "expectations"
    _write_suite(
        suites_dir,
        "kpi_rates",
        [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "rate"}},
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "rate", "min_value": 0, "max_value": 1},
            },
        ],
    )
    _write_suite(
        suites_dir,
        "dim_reps",
        [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "rep_id"}}],
    )
    results = base / "quality"
    suites = {suite.name: suite for suite in load_suites(suites_dir)}
    first = validate(database, [suites["marts.kpi_rates"]], {"marts": "marts"}, results)
    second = validate(database, [suites["marts.dim_reps"]], {"marts": "marts"}, results)
    assert not first.success and second.success
    assert second.data_docs_index == results / "data_docs" / "index.html"
    return results / "data_docs"


def _probe(page: Path) -> dict:
    """What headless Chromium, offline, shows of `page` (a probed copy beside it)."""
    probed = page.with_name(f"{page.stem}.probe.html")
    probed.write_text(
        page.read_text(encoding="utf-8").replace("</body>", f"{PROBE}</body>"), encoding="utf-8"
    )
    dom = rendered_dom(probed.as_uri())
    found = re.search(r'<pre id="offline-probe">(.*?)</pre>', dom, re.DOTALL)
    assert found, f"the probe did not run on {page}: {dom[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _drawn(icon: dict, probe: dict) -> bool:
    """A Font Awesome icon a reader sees: its glyph, in the loaded font, in a box with width."""
    return (
        icon["content"] not in ("none", "normal", "")
        and "Font Awesome 6 Free" in icon["font"]
        and "Font Awesome 6 Free 900" in probe["fonts"]
        and icon["width"] > 0
    )


def _marks(probe: dict, row_text: str) -> list[str]:
    """The drawn pass/fail marks of the table row containing `row_text`."""
    rows = [row for row in probe["rows"] if row_text in row["text"]]
    assert rows, f"no table row shows {row_text!r}: {[row['text'] for row in probe['rows']]}"
    return [
        mark
        for icon in rows[0]["icons"]
        if _drawn(icon, probe)
        for mark in ("fa-check-circle", "fa-times")
        if mark in icon["classes"].split()
    ]


def test_index_lists_validations_with_their_marks_offline(site):
    probe = _probe(site / "index.html")
    assert _marks(probe, "marts.kpi_rates") == ["fa-times"]
    assert _marks(probe, "marts.dim_reps") == ["fa-check-circle"]


def test_validation_page_shows_pass_and_fail_marks_offline(site):
    (page,) = site.glob("validations/marts/kpi_rates/**/*kpi_rates.html")
    probe = _probe(page)
    assert _marks(probe, "values must never be null") == ["fa-check-circle"]
    assert _marks(probe, "1 unexpected values found") == ["fa-times"]


def test_built_pages_load_nothing_from_the_network(site):
    pages = [page for page in site.rglob("*.html") if ".probe." not in page.name]
    assert len(pages) >= 5  # index, two validation pages, two expectation-suite pages
    left = {
        page.relative_to(site).as_posix(): refs
        for page in pages
        if (refs := network_references(page.read_text(encoding="utf-8")))
    }
    assert left == {}
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "integrity=" not in html and "crossorigin" not in html, page
    assert make_offline(site) == {}  # idempotent: nothing left, nothing rewritten twice


def test_every_cdn_file_of_the_gx_templates_is_vendored():
    """Fails when a GX upgrade changes its templates: vendor the new files (README in
    expectations/data_docs_assets/) and map them in offline_docs.ASSETS."""
    referenced = set()
    for template in GX_TEMPLATES.rglob("*.j2"):
        referenced |= set(network_references(template.read_text(encoding="utf-8")))
    referenced = {url for url in referenced if not GX_LOGO.fullmatch(url)}
    assert referenced, "no CDN reference found: has GX moved its templates?"
    assert referenced <= set(ASSETS) | CHART_SCRIPTS, referenced - set(ASSETS) - CHART_SCRIPTS


def test_vendored_files_are_the_ones_gx_pins():
    """The two files GX loads with a Subresource Integrity hash are byte for byte that file."""
    pinned = {}
    for template in GX_TEMPLATES.rglob("*.j2"):
        for tag in re.findall(r"<script[^>]*integrity=[^>]*>", template.read_text("utf-8")):
            url = re.search(r'src="([^"]+)"', tag).group(1)
            pinned[url] = re.search(r'integrity="sha384-([^"]+)"', tag).group(1)
    assert len(pinned) == 2, pinned
    for url, digest in pinned.items():
        content = (ASSETS_DIR / ASSETS[url]).read_bytes()
        assert base64.b64encode(hashlib.sha384(content).digest()).decode() == digest, url


def test_vendored_assets_are_small_and_licensed():
    files = [ASSETS_DIR / relative for relative in (*ASSETS.values(), *FONTS)]
    assert sum(path.stat().st_size for path in files) < ASSET_BUDGET_BYTES
    for package in {path.relative_to(ASSETS_DIR).parts[0] for path in files}:
        assert list((ASSETS_DIR / package).glob("LICENSE*")), f"{package} has no licence file"


def test_rewrite_page_points_at_vendored_files_at_any_depth():
    url = "https://code.jquery.com/jquery-3.7.1.min.js"
    page = (
        f'<head><script src="{url}" integrity="sha384-x" crossorigin="anonymous"></script>\n'
        '<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>\n'
        '<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/'
        'logo-long.png?d=1&dataContextId=2"></head>'
    )
    assert rewrite_page(page, "../..") == (
        '<head><script src="../../static/vendor/jquery-3.7.1/dist/jquery.min.js"></script>\n'
        '\n<img src="../../static/images/logo-long.png"></head>'
    )


def test_a_page_with_a_chart_keeps_vega_and_is_reported():
    vega = '<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>'
    page = f"<head>{vega}</head><body><script>vegaEmbed('#x', {{}});</script></body>"
    assert rewrite_page(page, ".") == page
    assert network_references(page) == ["https://cdn.jsdelivr.net/npm/vega@5"]


def test_missing_assets_say_what_to_do(tmp_path):
    (tmp_path / "index.html").write_text("<html></html>", encoding="utf-8")
    with pytest.raises(MissingAssetsError, match="git checkout -- expectations/data_docs_assets"):
        offline_docs.make_offline(tmp_path, assets_dir=tmp_path / "nowhere")


def test_dbt_docs_have_the_project_overview():
    """dbt docs open on our `__overview__` doc block (dbt_project/models/overview.md): the path
    of the data in order, the tools, where to start; every model it names exists."""
    manifest = json.loads(ensure_manifest().read_text(encoding="utf-8"))
    overview = manifest["docs"]["doc.sales_kpi.__overview__"]["block_contents"]
    steps = ["| landing |", "| raw |", "| staging |", "| intermediate |", "| core |"]
    steps += ["| marts |", "| published |"]
    positions = [overview.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), dict(
        zip(steps, positions, strict=True)
    )
    for text in ("Dagster", "dbt", "Great Expectations", "README", "make dashboard", "make demo"):
        assert text in overview, text
    assert "warehouse/quality/data_docs/index.html" in overview
    assert "予算" in overview and "着地見込み" in overview
    models = {node["name"] for node in manifest["nodes"].values()}
    named = set(re.findall(r"`((?:kpi|fct|dim|snap)_[a-z_]+|data_quality_issues)`", overview))
    assert "kpi_scorecard" in named and named <= models, named - models
