"""The dashboard: generated from the tiny run's published file, rendered in headless Chromium
offline, every number on a page equal to the mart's value read here by a query of our own."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import shutil
import threading
from html.parser import HTMLParser

import duckdb
import pytest

from orchestration.dashboard import PAGES, build_dashboard
from orchestration.dashboard.__main__ import main as dashboard_main
from orchestration.dashboard.formatting import format_value
from tests.browser import rendered_dom, screenshot
from tests.conftest import query_rows

# The tiny run has no target in the as-of period: the edited copy gives one KPI a target.
TARGET = {
    "target_value": 400000.0,
    "attainment": 0.75,
    "expected_to_date": 400000.0,
    "pace_ratio": 0.75,
    "gap": 100000.0,
    "status": "behind",
}


class _Numbers(HTMLParser):
    """Every element with data-metric: its data-value and the text a person reads."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: dict[str, tuple[str, str]] = {}
        self.attributes: list[dict[str, str | None]] = []
        self._open: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.attributes.append(attributes)
        if "data-metric" in attributes:
            self._open.append((tag, attributes["data-metric"], [attributes["data-value"] or ""]))

    def handle_data(self, data):
        if self._open:
            self._open[-1][2].append(data)

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            _, metric, parts = self._open.pop()
            assert metric not in self.numbers, f"two elements show {metric}"
            self.numbers[metric] = (parts[0], "".join(parts[1:]).strip())


def _parse(dom: str) -> _Numbers:
    parser = _Numbers()
    parser.feed(dom)
    return parser


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tiny_run, tmp_path_factory):
    """The dashboard of the tiny run, and of an edited copy of its published file (CAC and
    retention emptied, three quality issues, one scorecard row given a target), served over
    HTTP as `make dashboard` does; yields (base url, edited file, folder)."""
    settings, outcome = tiny_run
    assert outcome.success, outcome
    root = tmp_path_factory.mktemp("dashboard")
    build_dashboard(settings.published_db, root / "full")
    edited = root / "edited.duckdb"
    shutil.copyfile(settings.published_db, edited)
    with duckdb.connect(str(edited)) as con:
        as_of = con.execute("select as_of_date from _publication").fetchone()[0]
        con.execute("delete from kpi_cac")
        # The tiny run has no data-quality issue: three hand-made ones, two of one kind.
        con.executemany(
            "insert into data_quality_issues (issue_id, rule_code, severity, entity, record_id, "
            "source_file, source_row, offending_values, description, what_to_do, as_of_date) "
            "values (?, ?, ?, ?, ?, 'opportunities.csv', ?, ?, 'check', 'fix it', ?)",
            [
                ["i1", "won_before_created", "error", "opportunities", "o1", 3, "d", as_of],
                ["i2", "won_before_created", "error", "opportunities", "o2", 5, "d", as_of],
                ["i3", "missing_owner", "warning", "leads", "l9", 9, "owner", as_of],
            ],
        )
        con.execute("delete from kpi_retention")
        assignments = ", ".join(f"{column} = ?" for column in TARGET)
        con.execute(
            f"""
            update kpi_scorecard set {assignments}
            where period_grain = 'month' and scope_type = 'company' and ? between
                period_start_date and period_end_date and kpi_code = (
                    select min(kpi_code) from kpi_scorecard
                    where unit = 'amount' and period_grain = 'month' and scope_type = 'company'
                        and ? between period_start_date and period_end_date
                )
            """,
            [*TARGET.values(), as_of, as_of],
        )
    build_dashboard(edited, root / "edited")
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", edited, root
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def doms(site):
    """Each page of the full dashboard as Chromium rendered it (offline), rendered once."""
    base, _, _ = site
    return {page.file: rendered_dom(f"{base}/full/{page.file}") for page in PAGES}


@pytest.fixture(scope="module")
def as_of(marts) -> dt.date:
    value = marts.execute("select as_of_date from _publication").fetchone()[0]
    return value.date() if isinstance(value, dt.datetime) else value


def _close(page_value: str, mart_value) -> bool:
    if mart_value is None:
        return page_value == ""
    if isinstance(mart_value, str):
        return page_value == mart_value
    return page_value != "" and float(page_value) == pytest.approx(float(mart_value), rel=1e-12)


def _check(numbers: dict[str, tuple[str, str]], expected: dict[str, object], prefix: str) -> None:
    shown = {k: v for k, v in numbers.items() if k.startswith(prefix)}
    assert expected, f"the tiny run has no {prefix} values: the test would prove nothing"
    assert set(shown) == set(expected), (sorted(set(shown) ^ set(expected)))[:10]
    wrong = {k: (shown[k][0], v) for k, v in expected.items() if not _close(shown[k][0], v)}
    assert not wrong, wrong


def test_every_page_renders_offline_with_its_charts(site, doms):
    _, _, root = site
    for page in PAGES:
        dom = doms[page.file]
        assert page.title in dom
        html = (root / "full" / page.file).read_text()
        # Nothing from the network: scripts and styles are local files.
        assert 'src="http' not in html and 'href="http' not in html, page.file
    # plotly.js ran (offline) and drew its SVG on each page with a chart.
    for file in ("funnel.html", "cac.html", "sales_cycle.html"):
        assert 'class="main-svg"' in doms[file], f"no chart drawn on {file}"


SCORECARD_TARGET_COLUMNS = (
    "kpi_value",
    "target_value",
    "attainment",
    "expected_to_date",
    "pace_ratio",
    "landing_forecast",
    "gap",
    "status",
)


def _scorecard_expected(con, as_of) -> dict[str, object]:
    """Every company and team row of the periods holding the as-of date: the KPIs with a
    target with all their columns, the others with actual and landing forecast."""
    expected = {}
    for grain in ("month", "quarter", "fiscal_year"):
        rows = query_rows(
            con,
            "select * from kpi_scorecard where period_grain = ? "
            "and ? between period_start_date and period_end_date "
            "and scope_type in ('company', 'team')",
            grain,
            as_of,
        )
        targeted = {r["kpi_code"] for r in rows if r["target_value"] is not None}
        for row in rows:
            key = f"scorecard|{grain}|{row['scope_type']}|{row['scope_id']}|{row['kpi_code']}|"
            columns = (
                SCORECARD_TARGET_COLUMNS
                if row["kpi_code"] in targeted
                else ("kpi_value", "landing_forecast")
            )
            for column in columns:
                expected[key + column] = row[column]
    return expected


def test_scorecard_shows_the_marts_values(doms, marts, as_of):
    numbers = _parse(doms["index.html"]).numbers
    _check(numbers, _scorecard_expected(marts, as_of), "scorecard|")
    # Money carries its currency.
    money = [k for k in numbers if "|company|company|lost_mrr|kpi_value" in k]
    assert money, "the tiny run has no lost_mrr"
    value, text = numbers[money[0]]
    assert text == f"{round(float(value)):,} JPY"


def test_scorecard_against_a_target(site, as_of):
    base, edited, root = site
    dom = rendered_dom(f"{base}/edited/index.html")
    numbers = _parse(dom).numbers
    with duckdb.connect(str(edited), read_only=True) as con:
        expected = _scorecard_expected(con, as_of)
    _check(numbers, expected, "scorecard|")
    targeted = [k for k, v in expected.items() if k.endswith("|target_value") and v is not None]
    assert len(targeted) == 1, targeted
    key = targeted[0].removesuffix("target_value")
    assert numbers[key + "target_value"][1] == "400,000 JPY"
    assert numbers[key + "attainment"][1] == "75.0 %"
    assert numbers[key + "status"] == ("behind", "behind 遅れ")
    assert 'id="chart-scorecard-month"' in dom and 'class="main-svg"' in dom
    # A picture to look at (it is kept under pytest's base temp folder).
    shot = screenshot(f"{base}/edited/index.html", root / "shots" / "index.png")
    assert shot.stat().st_size > 20_000, f"{shot} looks blank"


def test_funnel_shows_each_step_and_the_worst(doms, marts, as_of):
    dom = doms["funnel.html"]
    numbers = _parse(dom).numbers
    rows = query_rows(
        marts,
        """
        select conversion_step, step_order, numerator_count, denominator_count,
            inferred_numerator_count
        from kpi_funnel_conversion
        where period_grain = 'fiscal_year' and analysis_basis = 'cohort'
            and ? between period_start_date and period_end_date
        """,
        as_of,
    )
    totals: dict[str, dict] = {}
    for row in rows:
        step = totals.setdefault(
            row["conversion_step"], {"order": row["step_order"], "n": 0, "d": 0, "i": 0}
        )
        step["n"] += row["numerator_count"]
        step["d"] += row["denominator_count"]
        step["i"] += row["inferred_numerator_count"]
    expected = {}
    for code, step in totals.items():
        expected[f"funnel|{code}|numerator_count"] = step["n"]
        expected[f"funnel|{code}|denominator_count"] = step["d"]
        expected[f"funnel|{code}|inferred_numerator_count"] = step["i"]
        expected[f"funnel|{code}|conversion_rate"] = step["n"] / step["d"] if step["d"] else None
    _check(numbers, expected, "funnel|")
    rated = {c: s["n"] / s["d"] for c, s in totals.items() if s["order"] < 90 and s["d"]}
    worst = min(rated, key=rated.get)
    assert f'id="worst-step" data-value="{worst}"' in dom
    assert dom.count('data-worst="true"') == 1
    stages = {c: r for c, r in rated.items() if totals[c]["order"] > 0}
    worst_stage = min(stages, key=stages.get)
    if worst_stage != worst:
        assert f'id="worst-stage" data-value="{worst_stage}"' in dom
        assert dom.count('data-worst-stage="true"') == 1


def test_cac_by_channel_and_agency(doms, marts, as_of):
    numbers = _parse(doms["cac.html"]).numbers
    rows = query_rows(
        marts,
        "select * from kpi_cac where period_grain = 'fiscal_year' "
        "and ? between period_start_date and period_end_date",
        as_of,
    )
    expected = {}
    for row in rows:
        key = f"cac|{row['channel']}|{row['agency_key']}|"
        if row["has_spend_data"]:
            expected[key + "spend_amount"] = row["spend_amount"]
        for column in (
            "new_customers",
            "cac_amount",
            "cac_payback_months",
            "ltv_amount",
            "ltv_to_cac_ratio",
        ):
            expected[key + column] = row[column]
    _check(numbers, expected, "cac|")
    spent = next(r for r in rows if r["has_spend_data"])
    _, text = numbers[f"cac|{spent['channel']}|{spent['agency_key']}|spend_amount"]
    assert text.endswith(f" {spent['currency']}")


def test_retention_heat_map(doms, marts, as_of):
    numbers = _parse(doms["retention.html"]).numbers
    month = as_of.replace(day=1)
    months = month.year * 12 + month.month - 1 - 23
    first = dt.date(months // 12, months % 12 + 1, 1)
    rows = query_rows(
        marts,
        "select * from kpi_retention where period_grain = 'month' and scope_type = 'company' "
        "and cohort_period_start_date between ? and ?",
        first,
        month,
    )
    expected = {}
    for row in rows:
        cohort = row["cohort_period_start_date"]
        for metric in ("logo_retention_rate", "net_revenue_retention_rate"):
            key = f"retention|{cohort}|{row['periods_since_acquisition']}|{metric}"
            expected[key] = row[metric]
            if row["periods_since_acquisition"] == 0:
                expected[f"retention|{cohort}|{metric}|cohort_customers"] = row["cohort_customers"]
    _check(numbers, expected, "retention|")


def test_sales_cycle(doms, marts, as_of):
    numbers = _parse(doms["sales_cycle.html"]).numbers
    rows = query_rows(
        marts,
        "select * from kpi_sales_cycle where period_grain = 'fiscal_year' "
        "and ? between period_start_date and period_end_date "
        "and grouping_level in ('team', 'total')",
        as_of,
    )
    expected = {}
    for row in rows:
        scope = "total" if row["grouping_level"] == "total" else row["team_id"]
        for column in (
            "won_deals",
            "excluded_deals",
            "mean_days_opportunity_to_won",
            "median_days_opportunity_to_won",
            "p75_days_opportunity_to_won",
            "p90_days_opportunity_to_won",
            "median_days_lead_to_won",
            "p90_days_lead_to_won",
        ):
            expected[f"sales_cycle|{scope}|{column}"] = row[column]
    _check(numbers, expected, "sales_cycle|")


def _quality_expected(con) -> dict[str, object]:
    rows = query_rows(
        con,
        "select rule_code, severity, entity, count(*) as issues from data_quality_issues "
        "group by all",
    )
    expected: dict[str, object] = {"quality|total": sum(r["issues"] for r in rows)}
    for row in rows:
        key = f"quality|{row['rule_code']}|{row['severity']}|{row['entity']}|issues"
        expected[key] = row["issues"]
    return expected


def test_quality_counts(doms, marts, site):
    # The tiny run has none: the page says so.
    dom = doms["quality.html"]
    _check(_parse(dom).numbers, _quality_expected(marts), "quality|")
    assert 'data-empty="quality-counts"' in dom and 'data-empty="quality-top"' in dom
    # The edited copy has three, counted by kind as the mart holds them: 2 errors, 1 warning.
    _, edited, root = site
    html = (root / "edited" / "quality.html").read_text()
    with duckdb.connect(str(edited), read_only=True) as con:
        expected = _quality_expected(con)
    assert expected["quality|total"] == 3
    assert expected["quality|won_before_created|error|opportunities|issues"] == 2
    _check(_parse(html).numbers, expected, "quality|")
    assert html.count("data-issue=") == 3
    assert 'id="chart-quality"' in html


def test_a_page_with_no_rows_says_so(site):
    base, _, root = site
    dom = rendered_dom(f"{base}/edited/cac.html")
    assert 'data-empty="cac"' in dom
    assert "No rows in kpi_cac for the fiscal year" in dom
    assert 'id="chart-cac"' not in dom
    retention = (root / "edited" / "retention.html").read_text()
    assert 'data-empty="retention"' in retention
    assert "No monthly cohort" in retention


def test_no_published_file_says_run_make_demo(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SALES_KPI_PUBLISHED_DB", str(tmp_path / "missing.duckdb"))
    assert dashboard_main(["--build-only", "--out", str(tmp_path / "site")]) == 1
    assert "run `make demo` first" in capsys.readouterr().err
    assert not (tmp_path / "site").exists()


def test_formatting_for_people():
    assert format_value(15131000.0, "money", "JPY") == "15,131,000 JPY"
    assert format_value(1234.5, "money", "USD") == "1,234.50 USD"
    assert format_value(0.81264, "rate") == "81.3 %"
    assert format_value(None, "rate") == "–"
    assert format_value(12.5, "count") == "12.5"
    assert format_value(7.0, "count") == "7"
    with pytest.raises(ValueError, match="Unknown number kind"):
        format_value(1, "furlongs")
