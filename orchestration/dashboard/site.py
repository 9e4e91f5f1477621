"""The static dashboard: one HTML page per subject, charts drawn by a local plotly.js.

`build_dashboard` reads the published file once (read-only) and writes a self-contained
folder: HTML pages, style.css and plotly.min.js (shipped inside the plotly package), so the
pages open offline, from any static file server or straight from the disk.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from plotly.offline import get_plotlyjs

from orchestration.dashboard.data import DashboardData, Section, read_dashboard_data
from orchestration.dashboard.formatting import data_value, format_value, unit_kind

ASSETS = Path(__file__).parent / "assets"


@dataclass(frozen=True)
class Page:
    file: str
    title: str
    title_ja: str
    template: str


PAGES = (
    Page("index.html", "Scorecard vs target", "予算 vs 着地見込み", "scorecard.html"),
    Page("funnel.html", "Funnel", "ファネル・歩留まり", "funnel.html"),
    Page("cac.html", "CAC by channel and agency", "顧客獲得コスト", "cac.html"),
    Page("retention.html", "Retention cohorts", "コホート別継続率", "retention.html"),
    Page("sales_cycle.html", "Sales cycle", "セールスサイクル", "sales_cycle.html"),
    Page("quality.html", "Data quality", "データ品質", "quality.html"),
)

GRAIN_LABELS = {
    "month": "Month 月次",
    "quarter": "Fiscal quarter 四半期",
    "fiscal_year": "Fiscal year 年度",
}
STATUS_LABELS = {"ahead": "ahead 先行", "on_pace": "on pace 計画通り", "behind": "behind 遅れ"}
STEP_LABELS = {
    "lead": "lead リード",
    "opportunity": "opportunity 商談",
    "approach": "approach アプローチ開始",
    "information_gathering": "information gathering 情報収集",
    "proposal": "proposal 企画提案",
    "closing": "closing クロージング",
    "follow_up": "follow-up フォロー(受注)",
    "won": "won 受注",
}
COLOURS = {
    "actual": "#4c78a8",
    "forecast": "#f58518",
    "target": "#9d9d9d",
    "worst": "#d62728",
    "stage": "#f2a93b",
}
# The page's font stack (style.css): a Japanese font the viewer's system has.
FONTS = "system-ui, 'Noto Sans CJK JP', 'Hiragino Sans', 'Yu Gothic', IPAGothic, sans-serif"
SEVERITY_COLOURS = {"error": "#d62728", "warning": "#f2a93b", "info": "#9d9d9d"}
PLOT_CONFIG = {"displaylogo": False, "responsive": True}


def _chart(figure: go.Figure, chart_id: str) -> str:
    figure.update_layout(
        margin={"l": 60, "r": 20, "t": 40, "b": 60},
        height=360,
        template="plotly_white",
        font={"family": FONTS, "size": 13},
    )
    return pio.to_html(
        figure, include_plotlyjs=False, full_html=False, div_id=chart_id, config=PLOT_CONFIG
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _scorecard_chart(section: Section, grain: str, team_name) -> str | None:
    """Actual, landing forecast and target of one money KPI (won_amount first) per scope."""
    money = [r for r in section.rows if r["unit"] == "amount"]
    if not money:
        return None
    codes = [r["kpi_code"] for r in money]
    code = "won_amount" if "won_amount" in codes else codes[0]
    rows = [r for r in money if r["kpi_code"] == code]
    labels = [team_name(r["scope_id"]) for r in rows]
    figure = go.Figure()
    for name, key, colour in (
        ("Actual 実績", "kpi_value", COLOURS["actual"]),
        ("Landing forecast 着地見込み", "landing_forecast", COLOURS["forecast"]),
        ("Target 予算", "target_value", COLOURS["target"]),
    ):
        figure.add_bar(name=name, x=labels, y=[_float(r[key]) for r in rows], marker_color=colour)
    figure.update_layout(
        barmode="group",
        title=f"{rows[0]['kpi_name_ja']} ({code})",
        yaxis_title="amount",
    )
    return _chart(figure, f"chart-scorecard-{grain}")


def _funnel_chart(section: Section) -> str | None:
    steps = [r for r in section.rows if r["step_order"] < 90]
    if not steps:
        return None
    figure = go.Figure()
    figure.add_bar(
        x=[f"{r['from_step']} →<br>{r['to_step']}" for r in steps],
        y=[_float(r["conversion_rate"]) for r in steps],
        marker_color=[
            COLOURS["worst"]
            if r["is_worst"]
            else COLOURS["stage"]
            if r["is_worst_stage"]
            else COLOURS["actual"]
            for r in steps
        ],
        text=[format_value(r["conversion_rate"], "rate") for r in steps],
        textposition="outside",
    )
    figure.update_layout(
        title="Conversion to the next step 次ステップへの転換率 (red: the worst step; amber: the worst stage)",
        yaxis={"tickformat": ".0%", "rangemode": "tozero"},
    )
    return _chart(figure, "chart-funnel")


def _cac_chart(section: Section) -> str | None:
    rows = [r for r in section.rows if r["cac_amount"] is not None]
    if not rows:
        return None
    figure = go.Figure()
    figure.add_bar(
        x=[f"{r['channel']} / {r['agency_key']}" for r in rows],
        y=[_float(r["cac_amount"]) for r in rows],
        marker_color=COLOURS["actual"],
        text=[format_value(r["cac_amount"], "money", r["currency"]) for r in rows],
        textposition="outside",
    )
    figure.update_layout(
        title="CAC per new customer 新規顧客1社あたり獲得コスト",
        yaxis_title=rows[0]["currency"],
    )
    return _chart(figure, "chart-cac")


def _sales_cycle_chart(deals: Section) -> str | None:
    days = [
        r["days_opportunity_to_won"] for r in deals.rows if r["days_opportunity_to_won"] is not None
    ]
    if not days:
        return None
    figure = go.Figure()
    figure.add_histogram(x=days, xbins={"size": 7}, marker_color=COLOURS["actual"])
    weeks: dict[int, int] = {}
    for day in days:
        weeks[day // 7] = weeks.get(day // 7, 0) + 1
    figure.update_layout(
        title="Days from opportunity to won 商談作成→受注の日数 (weekly bins)",
        xaxis_title="days",
        yaxis={**_count_axis(max(weeks.values())), "title": "won deals 受注数"},
        bargap=0.05,
    )
    return _chart(figure, "chart-sales-cycle")


def _count_axis(largest: float) -> dict[str, Any]:
    """A y axis of whole numbers (no 0.5 issues or deals on small counts)."""
    return {"tickformat": ",d", "dtick": max(1, math.ceil(largest / 6)), "rangemode": "tozero"}


def _quality_chart(counts: Section) -> str | None:
    if not counts.rows:
        return None
    rules = list(dict.fromkeys(r["rule_code"] for r in counts.rows))
    figure = go.Figure()
    largest: dict[str, int] = {}
    for severity, colour in SEVERITY_COLOURS.items():
        per_rule = dict.fromkeys(rules, 0)
        for row in counts.rows:
            if row["severity"] == severity:
                per_rule[row["rule_code"]] += row["issues"]
                largest[row["rule_code"]] = largest.get(row["rule_code"], 0) + row["issues"]
        if any(per_rule.values()):
            figure.add_bar(name=severity, x=rules, y=list(per_rule.values()), marker_color=colour)
    figure.update_layout(
        title="Issues by rule and severity 規則・重要度別の件数",
        barmode="stack",
        yaxis={**_count_axis(max(largest.values(), default=1)), "title": "issues 件数"},
    )
    return _chart(figure, "chart-quality")


def _heat_intensity(value: Any) -> float:
    """How far a retention rate is from 100 %: blue above it (up to 150 %), red below (down to
    50 %), pale at exactly 100 %, so the cohorts that lose customers or grow stand out."""
    rate = float(value)
    if rate >= 1:
        return 0.12 + 0.88 * min(1.0, (rate - 1) / 0.5)
    return 0.15 + 0.85 * min(1.0, (1 - rate) / 0.5)


def _heat_colour(value: Any) -> str:
    """Background of a heat-map cell."""
    if value is None:
        return "transparent"
    base = (31, 90, 160) if float(value) >= 1 else (198, 40, 40)
    share = _heat_intensity(value)
    red, green, blue = (int(255 - share * (255 - c)) for c in base)
    return f"rgb({red},{green},{blue})"


def _heat_text(value: Any) -> str:
    return "#fff" if value is not None and _heat_intensity(value) >= 0.55 else "#222"


def _pivot(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """KPI × scope grid of the scorecard's KPIs without a target."""
    scopes = list(dict.fromkeys((r["scope_type"], r["scope_id"]) for r in rows))
    kpis = list(dict.fromkeys(r["kpi_code"] for r in rows))
    cells = {(r["kpi_code"], r["scope_type"], r["scope_id"]): r for r in rows}
    names = {r["kpi_code"]: r["kpi_name_ja"] for r in rows}
    return {"scopes": scopes, "kpis": kpis, "cells": cells, "names": names}


def _retention_grid(section: Section) -> dict[str, Any]:
    cohorts = sorted({r["cohort_period_start_date"] for r in section.rows})
    periods = sorted({r["periods_since_acquisition"] for r in section.rows})
    cells = {
        (r["cohort_period_start_date"], r["periods_since_acquisition"]): r for r in section.rows
    }
    sizes = {
        r["cohort_period_start_date"]: r
        for r in section.rows
        if r["periods_since_acquisition"] == 0
    }
    return {"cohorts": cohorts, "periods": periods, "cells": cells, "sizes": sizes}


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("orchestration.dashboard", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["fmt"] = format_value
    environment.filters["data_value"] = data_value
    environment.filters["unit_kind"] = unit_kind
    environment.filters["heat"] = _heat_colour
    environment.filters["heat_text"] = _heat_text
    return environment


def build_dashboard(
    published_db: Path, out_dir: Path, dbt_vars: dict[str, Any] | None = None
) -> list[Path]:
    """Write the dashboard for `published_db` into `out_dir`; returns the pages written."""
    data: DashboardData = read_dashboard_data(published_db, dbt_vars)
    out_dir = Path(out_dir)
    (out_dir / "assets").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ASSETS / "style.css", out_dir / "assets" / "style.css")
    plotly_js = out_dir / "assets" / "plotly.min.js"
    script = get_plotlyjs()
    if not plotly_js.exists() or plotly_js.stat().st_size != len(script.encode()):
        plotly_js.write_text(script, encoding="utf-8")

    def team_name(scope_id: str) -> str:
        if scope_id == "company":
            return "company 全社"
        name = data.team_names.get(scope_id)
        return f"{name} ({scope_id})" if name else scope_id

    charts = {
        **{
            f"scorecard_{grain}": _scorecard_chart(section, grain, team_name)
            for grain, section in data.scorecard.items()
        },
        "funnel": _funnel_chart(data.funnel),
        "cac": _cac_chart(data.cac),
        "sales_cycle": _sales_cycle_chart(data.sales_cycle_deals),
        "quality": _quality_chart(data.quality_counts),
    }
    environment = _environment()
    written = []
    for page in PAGES:
        html = environment.get_template(page.template).render(
            data=data,
            page=page,
            pages=PAGES,
            charts=charts,
            team_name=team_name,
            grain_labels=GRAIN_LABELS,
            status_labels=STATUS_LABELS,
            step_labels=STEP_LABELS,
            retention=_retention_grid(data.retention),
            pivots={grain: _pivot(section.others) for grain, section in data.scorecard.items()},
            generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        )
        target = out_dir / page.file
        target.write_text(html, encoding="utf-8")
        written.append(target)
    return written
