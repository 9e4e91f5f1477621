"""Deterministic demo data for a Japanese B2B SaaS company, in the canonical export format.

The generator simulates a sales organisation that sells an annual SaaS contract (年間契約):

- an inside-sales team of SDRs (インサイドセールス課) and two outsourced sales agencies
  (営業代行) work the leads, set appointments (アポイント) and convert them to opportunities;
- two field-sales teams of AEs (フィールドセールス1課: enterprise, 2課: SMB) run the deals
  through the stages approach → discovery → proposal → negotiation → closed_won/closed_lost;
- a customer-success team looks after the customers, whose subscriptions renew, expand,
  contract and churn month by month.

Time runs on the Japanese business calendar (weekends, national holidays via `holidays`, and
the usual company closures at New Year and お盆); the fiscal year starts in April, with a closing
push in March and September. Everything is drawn from `numpy.random.default_rng` streams derived
from the seed, so the same arguments always give byte-identical files.

Timestamps are Asia/Tokyo local time. Internally, times inside working hours are handled as
*business seconds* (`bt`): business day number × 36,000 + seconds since 9:00, which keeps ordered
schedules ordered when they are mapped back onto the calendar.

Activities dominate the volume (about 200,000 at scale 1, 10 million at scale 50); they are
generated with numpy in chunks and streamed to the CSV file. Above scale 1 the organisation
grows in whole teams (scale 50: 50 inside-sales teams, 100 field-sales teams, ...).

Things worth knowing about the data:

- Deals that were already open when the data starts (created up to 120 days before it) are
  included without a lead, so the pipeline is not empty in the first months; their activities
  start at the start date.
- Customers under contract before the data starts have subscriptions without opportunity.
  Subscription items agreed before the end date may start (or end) after it, e.g. a deal won
  in the last month starts on the first day of the following month.
- Open deals carry their expected close date, which lies after the end date.
- Spend covers every channel of seeds/lead_source_channels.csv every month, including
  field_sales (the AEs' own prospecting, for deals without a lead).

Usage::

    python -m orchestration.demo.generate --landing data/landing --scale 0.05
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import holidays
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from orchestration.lib.canonical_schema import ENTITIES, ENTITY_ORDER

# ---------------------------------------------------------------------------------------------
# Constants and reference data
# ---------------------------------------------------------------------------------------------

DAY = 86_400
WORK_START = 9 * 3600  # 9:00
WORK_SECONDS = 10 * 3600  # 9:00-19:00
# Activity intensity per working hour 9:00..18:00 (昼休み dip at 12:00).
HOUR_PROFILE = np.array([0.75, 1.15, 1.1, 0.35, 1.0, 1.1, 1.15, 1.1, 0.9, 0.5])
# Meeting start slots 9:00, 9:30, ..., 17:30: mostly on the hour, few over lunch.
MEETING_SLOTS = np.array([0.3, 0.5, 1.0, 0.6, 1.0, 0.6, 0.15, 0.15, 1.0, 0.6, 1.0, 0.6, 1.0, 0.6,
                          1.0, 0.6, 0.8, 0.3])  # fmt: skip
NEVER = np.iinfo(np.int64).max // 4
CURRENCY = "JPY"

LEADS_PER_BUSINESS_DAY = 33.0  # at scale 1, before seasonality and growth
GROWTH_PER_YEAR = 1.25
BASE_CUSTOMERS = 800  # customers already under contract when the data starts, at scale 1
AE_SOURCED_SHARE = 0.12  # AE-sourced opportunities per converted lead
CARRY_OVER_DAYS = 120  # open deals at the start were created in the 120 days before it
ACTIVITY_CHUNK = 40_000  # leads or opportunities per activity chunk

# Random streams: each part of the model draws from its own stream.
_S_ORG, _S_LEADS, _S_COMPANIES, _S_OPPS, _S_SUBS, _S_CONTACTS = 1, 2, 3, 4, 5, 6
_S_LEAD_ACTS, _S_OPP_ACTS, _S_CS_ACTS, _S_SPEND, _S_TARGETS = 7, 8, 9, 10, 11

# Lead creation seasonality by calendar month (Jan..Dec): April fiscal year, spring and autumn
# campaigns, quiet August (お盆) and New Year.
LEAD_SEASON = np.array([0.8, 1.0, 0.95, 1.15, 1.0, 1.1, 1.0, 0.72, 1.05, 1.2, 1.15, 0.85])

# Lead sources and their behaviour (same order everywhere).
SOURCES = (
    "web_inquiry",
    "document_download",
    "paid_ads",
    "seminar",
    "trade_show",
    "referral",
    "outbound_list",
    "agency_outbound",
)
WEB_INQUIRY, DOC_DOWNLOAD, PAID_ADS, SEMINAR, TRADE_SHOW, REFERRAL, OUTBOUND, AGENCY = range(8)
SOURCE_SHARE = np.array([0.11, 0.22, 0.14, 0.12, 0.10, 0.05, 0.16, 0.10])
P_WORKED = np.array([0.98, 0.85, 0.85, 0.95, 0.92, 1.0, 1.0, 1.0])
P_CONVERT = np.array([0.40, 0.09, 0.07, 0.18, 0.12, 0.55, 0.12, 0.14])
WIN_RATE = np.array([0.32, 0.15, 0.12, 0.25, 0.18, 0.45, 0.20, 0.16])
AE_SOURCED_WIN_RATE = 0.30
P_CALL = np.array([0.6, 0.55, 0.55, 0.6, 0.7, 0.65, 0.88, 0.88])
P_CONNECT = np.array([0.36, 0.24, 0.22, 0.29, 0.26, 0.46, 0.17, 0.18])
P_EMAIL_OPENED = 0.30
TOUCHES_BEFORE_APPOINTMENT = np.array([1.0, 2.0, 2.0, 1.5, 2.0, 0.5, 3.5, 3.5])
TOUCHES_DISQUALIFIED = np.array([5.0, 6.0, 6.0, 6.0, 6.0, 4.0, 8.0, 8.0])
FIRST_TOUCH_LAG = np.array([1800, 7200, 7200, 36000, 54000, 3600, 300, 300])  # business s
SPAN_CONVERTED = np.array([3, 6, 6, 5, 6, 2, 8, 8])  # median business days, first→last touch
SPAN_DISQUALIFIED = np.array([10, 12, 12, 12, 12, 8, 15, 15])
WEB_SOURCES = (WEB_INQUIRY, DOC_DOWNLOAD, PAID_ADS)

# The channels of lead_source_channels.csv; field_sales is the channel of deals without a lead
# (lead source ae_sourced: AEs' own prospecting, 自己開拓).
CHANNELS = ("inbound_web", "paid_media", "events", "referral", "outbound", "outsourced_sales",
            "field_sales")  # fmt: skip

STAGES = ("approach", "discovery", "proposal", "negotiation", "closed_won", "closed_lost")
CLOSED_WON, CLOSED_LOST = 4, 5
STAGE_MEDIAN_BDAYS = np.array([9.0, 11.0, 13.0, 10.0])  # time spent in each open stage
LOST_AT_STAGE = np.array([0.30, 0.30, 0.25, 0.15])
P_SKIP_STAGE = 0.05
LOST_REASONS = (
    "価格",
    "競合他社に決定",
    "予算確保できず",
    "時期尚早",
    "機能要件不一致",
    "連絡途絶",
    "社内稟議否決",
)
LOST_REASON_P = np.array([0.2, 0.22, 0.15, 0.15, 0.1, 0.12, 0.06])
OPPORTUNITY_TYPES = ("new", "expansion", "renewal")
NEW, EXPANSION, RENEWAL = 0, 1, 2

EMPLOYEE_BANDS = ("1-49", "50-299", "300-999", "1000+")
DEAL_MEDIAN_BY_BAND = np.array([1_100_000, 2_200_000, 4_500_000, 7_500_000])
MIN_DEAL, MAX_DEAL = 600_000, 12_000_000
PRODUCTS = ("Starter", "Standard", "Professional", "Enterprise")
PRODUCT_MRR_FLOOR = np.array([0, 100_000, 250_000, 500_000])

ACTIVITY_TYPES = ("call", "email", "meeting", "task")
CALL, EMAIL, MEETING, TASK = range(4)
OUTCOMES = ("no_answer", "connected", "appointment_set", "sent", "opened", "held", "no_show",
            "completed")  # fmt: skip
NO_ANSWER, CONNECTED, APPOINTMENT_SET, SENT, OPENED, HELD, NO_SHOW, COMPLETED = range(8)
SUBJECTS = (
    "初回架電",  # 0
    "フォロー架電",  # 1
    "アポイント獲得",  # 2
    "お問い合わせありがとうございます",  # 3
    "資料ダウンロードのお礼",  # 4
    "セミナーご参加のお礼",  # 5
    "展示会ご来場のお礼",  # 6
    "ご紹介いただいた件",  # 7
    "サービスのご紹介",  # 8
    "フォローアップのご連絡",  # 9
    "初回商談",  # 10
    "ヒアリング",  # 11
    "提案",  # 12
    "条件交渉",  # 13
    "商談のお礼",  # 14
    "提案資料の送付",  # 15
    "お見積りの送付",  # 16
    "契約書の送付",  # 17
    "ヒアリングシート作成",  # 18
    "提案書作成",  # 19
    "見積書作成",  # 20
    "稟議サポート",  # 21
    "オンボーディング",  # 22
    "定例ミーティング",  # 23
    "活用状況のご報告",  # 24
    "ヘルスチェック",  # 25
    "新機能のご案内",  # 26
)
FIRST_EMAIL_SUBJECT = np.array([3, 4, 4, 5, 6, 7, 8, 8])
MEETING_SUBJECT_BY_STAGE = np.array([10, 11, 12, 13])
EMAIL_SUBJECT_BY_STAGE = np.array([14, 15, 16, 17])
TASK_SUBJECT_BY_STAGE = np.array([18, 19, 20, 21])

FAMILY_NAMES = (
    ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"),
    ("伊藤", "ito"), ("渡辺", "watanabe"), ("山本", "yamamoto"), ("中村", "nakamura"),
    ("小林", "kobayashi"), ("加藤", "kato"), ("吉田", "yoshida"), ("山田", "yamada"),
    ("佐々木", "sasaki"), ("山口", "yamaguchi"), ("松本", "matsumoto"), ("井上", "inoue"),
    ("木村", "kimura"), ("林", "hayashi"), ("斎藤", "saito"), ("清水", "shimizu"),
    ("山崎", "yamazaki"), ("森", "mori"), ("池田", "ikeda"), ("橋本", "hashimoto"),
    ("阿部", "abe"), ("石川", "ishikawa"), ("山下", "yamashita"), ("中島", "nakajima"),
    ("石井", "ishii"), ("小川", "ogawa"), ("前田", "maeda"), ("岡田", "okada"),
    ("長谷川", "hasegawa"), ("藤田", "fujita"), ("後藤", "goto"), ("近藤", "kondo"),
    ("村上", "murakami"), ("遠藤", "endo"), ("青木", "aoki"), ("坂本", "sakamoto"),
    ("西村", "nishimura"), ("福田", "fukuda"), ("太田", "ota"), ("三浦", "miura"),
    ("藤井", "fujii"), ("岡本", "okamoto"), ("松田", "matsuda"), ("中川", "nakagawa"),
    ("中野", "nakano"), ("原田", "harada"),
)  # fmt: skip
GIVEN_NAMES = (
    ("翔太", "shota"), ("大輔", "daisuke"), ("健太", "kenta"), ("拓也", "takuya"),
    ("直樹", "naoki"), ("亮", "ryo"), ("翼", "tsubasa"), ("達也", "tatsuya"),
    ("和也", "kazuya"), ("誠", "makoto"), ("悠斗", "yuto"), ("蓮", "ren"),
    ("大樹", "daiki"), ("隆之", "takayuki"), ("浩二", "koji"), ("健一", "kenichi"),
    ("雄太", "yuta"), ("慎也", "shinya"), ("智也", "tomoya"), ("陽介", "yosuke"),
    ("剛", "tsuyoshi"), ("聡", "satoshi"), ("修", "osamu"), ("俊介", "shunsuke"),
    ("洋平", "yohei"), ("美咲", "misaki"), ("陽子", "yoko"), ("愛", "ai"),
    ("彩", "aya"), ("真由美", "mayumi"), ("恵", "megumi"), ("由美", "yumi"),
    ("麻衣", "mai"), ("優子", "yuko"), ("香織", "kaori"), ("奈々", "nana"),
    ("沙織", "saori"), ("理恵", "rie"), ("千尋", "chihiro"), ("美穂", "miho"),
    ("彩花", "ayaka"), ("葵", "aoi"), ("結衣", "yui"), ("明美", "akemi"),
    ("早紀", "saki"), ("瞳", "hitomi"), ("智子", "tomoko"), ("久美子", "kumiko"),
    ("玲奈", "rena"), ("菜摘", "natsumi"),
)  # fmt: skip

COMPANY_STEMS = (
    "日本", "東京", "大阪", "関西", "中央", "東洋", "太平洋", "北斗", "富士", "桜",
    "青葉", "大和", "丸の内", "みらい", "グローバル", "ネクスト", "アーク", "ブルー", "スマート",
    "サン", "ユニオン", "アルファ", "ミライ", "ひかり", "あおば", "シンクロ", "リンク",
    "フロンティア", "エール", "ライズ", "テラ", "ノヴァ", "コスモ", "オーシャン", "グリーン",
    "ゼニス", "ベイ", "千代田", "湘南", "札幌", "名古屋", "博多", "横浜", "神戸", "京都", "新和",
    "昭和", "大同", "共栄", "瑞穂",
)  # fmt: skip
COMPANY_MIDDLES = (
    "", "", "", "", "", "第一", "新", "総合", "ワールド", "トラスト", "メディア", "ビジネス",
    "プロ", "クリエイト", "ウェブ", "ライフ", "ワークス", "インターナショナル", "ジャパン",
    "エース",
)  # fmt: skip
# Business-type suffixes and the industry (業種) they imply.
COMPANY_KINDS = (
    ("テクノロジー", 0), ("システムズ", 0), ("ソリューションズ", 0), ("ネットワークス", 0),
    ("データ", 0), ("ソフト", 0), ("工業", 1), ("製作所", 1), ("電機", 1), ("精機", 1),
    ("化学", 1), ("フーズ", 1), ("産業", 1), ("商事", 2), ("物産", 2), ("リテール", 2),
    ("建設", 3), ("エンジニアリング", 3), ("不動産", 4), ("ロジスティクス", 5), ("運輸", 5),
    ("交通", 5), ("メディカル", 6), ("ケアサービス", 6), ("ファイナンス", 7), ("キャピタル", 7),
    ("コンサルティング", 8), ("デザイン", 8), ("ラボ", 8), ("サービス", 9), ("パートナーズ", 9),
    ("ホールディングス", 9), ("アカデミー", 10),
)  # fmt: skip
INDUSTRIES = (
    "情報通信業", "製造業", "卸売業・小売業", "建設業", "不動産業・物品賃貸業", "運輸業・郵便業",
    "医療・福祉", "金融業・保険業", "学術研究・専門・技術サービス業", "サービス業",
    "教育・学習支援業",
)  # fmt: skip
PREFECTURES = (
    ("東京都", 40), ("大阪府", 11), ("神奈川県", 8), ("愛知県", 7), ("福岡県", 5), ("埼玉県", 4),
    ("千葉県", 3), ("兵庫県", 3), ("北海道", 3), ("京都府", 2), ("宮城県", 2), ("広島県", 2),
    ("静岡県", 2), ("新潟県", 1), ("岡山県", 1), ("熊本県", 1), ("長野県", 1), ("茨城県", 1),
    ("群馬県", 1), ("沖縄県", 1),
)  # fmt: skip
REGISTRY_OFFICES = (
    "0100", "0104", "0105", "0106", "0107", "0108", "0109", "0110", "0111", "0113",
    "1200", "1201", "1202", "0200", "0201", "1800", "1801", "2900", "2901", "0300",
)  # fmt: skip
DEPARTMENTS = ("営業部", "営業企画部", "経営企画部", "情報システム部", "マーケティング部", "総務部",
               "DX推進室")  # fmt: skip
POSITIONS = ("部長", "課長", "係長", "主任", "担当", "マネージャー", "代表取締役", "取締役")
POSITION_P = np.array([0.2, 0.24, 0.12, 0.12, 0.18, 0.06, 0.04, 0.04])

AGENCIES = (
    ("AG01", "株式会社セールスブースト", "retainer", "セールスブースト"),
    ("AG02", "アポイントプロ株式会社", "per_appointment", "アポイントプロ"),
)
AGENCY_LEAD_SHARE = np.array([0.55, 0.45])
TRADE_SHOW_MONTHS = (4, 6, 10, 11)
WEBINARS_PER_MONTH = 3

# Monthly spend parameters (JPY at scale 1).
INBOUND_WEB_FIXED = 3_000_000
INBOUND_WEB_PER_LEAD = 6_000
PAID_CPL = 26_000
WEBINAR_COST = 350_000
TRADE_SHOW_COST = 6_500_000
EVENTS_FIXED = 300_000
REFERRAL_FIXED = 150_000
REFERRAL_FEE_RATE = 0.10
SDR_MONTHLY_COST = 650_000
OUTBOUND_TOOLS = 300_000
AE_MONTHLY_COST = 800_000
AE_PROSPECTING_SHARE = 0.3  # share of AE time spent on their own prospecting
AGENCY_RETAINER = 1_300_000
AGENCY_BASE_FEE = 200_000
AGENCY_FEE_PER_APPOINTMENT = 45_000


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

_EPOCH = date(1970, 1, 1)


def _rng(seed: int, *stream: int) -> np.random.Generator:
    """An independent random generator for one part of the model."""
    return np.random.default_rng([seed, *stream])


def _epoch_day(d: date) -> int:
    return (d - _EPOCH).days


def _months_abs(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of epoch days."""
    return (
        np.asarray(days, dtype=np.int64)
        .astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype(np.int64)
    )


def _month_first_day(months_abs: np.ndarray | int) -> np.ndarray:
    """Epoch day of the first day of months given as months since 1970-01."""
    m = np.asarray(months_abs, dtype=np.int64)
    return m.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _lognormal(
    rng: np.random.Generator, median: np.ndarray | float, sigma: float, size: int
) -> np.ndarray:
    return rng.lognormal(np.log(median), sigma, size)


def _uniform_int(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Uniform integers in [lo, hi) element-wise (hi > lo)."""
    return lo + (rng.random(len(lo)) * (hi - lo)).astype(np.int64)


def _repeat_index(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per parent: the parent index of each child and the child's position."""
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    position = np.arange(len(parent)) - np.repeat(starts, counts)
    return parent, position


def _rank_ids(keys: Sequence[np.ndarray]) -> np.ndarray:
    """1-based ids in the order of the keys (last key is primary, as in np.lexsort)."""
    order = np.lexsort(keys)
    ids = np.empty(len(order), dtype=np.int64)
    ids[order] = np.arange(1, len(order) + 1)
    return ids


# Arrow column builders ------------------------------------------------------------------------


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """`prefix` + zero-padded number; null where the number is negative."""
    numbers = np.asarray(numbers, dtype=np.int64)
    arr = pa.array(numbers, mask=numbers < 0).cast(pa.string())
    arr = pc.utf8_lpad(arr, width=width, padding="0")
    if not prefix:
        return arr
    return pc.binary_join_element_wise(pa.scalar(prefix), arr, "")


def _labels(values: Sequence[str], codes: np.ndarray) -> pa.Array:
    """Labels `values[code]`; null where the code is negative."""
    codes = np.asarray(codes, dtype=np.int64)
    mask = codes < 0
    return pa.array(list(values), pa.string()).take(pa.array(np.where(mask, 0, codes), mask=mask))


def _timestamps(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64), pa.timestamp("s"), mask=mask)


def _dates(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), pa.date32(), mask=mask)


def _ints(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), mask=mask)


def _const(value: str | None, n: int) -> pa.Array:
    return pa.array([value] * n, pa.string()) if n else pa.array([], pa.string())


def _concat_strings(*parts: pa.Array | str) -> pa.Array:
    args = [pa.scalar(p) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, "")


class CsvSink:
    """Writes one canonical CSV file: header, then tables in the entity's column order."""

    _OPTIONS = pacsv.WriteOptions(
        include_header=False, batch_size=65_536, quoting_style="none", quoting_header="none"
    )

    def __init__(self, path: Path, entity: str) -> None:
        self.columns = ENTITIES[entity].column_names
        self.rows = 0
        self._fh = pa.OSFile(str(path), "wb")
        self._fh.write((",".join(self.columns) + "\n").encode("utf-8"))

    def write(self, columns: dict[str, pa.Array]) -> None:
        if list(columns) != self.columns:
            raise ValueError(f"columns {list(columns)} differ from canonical {self.columns}")
        table = pa.table(columns)
        if table.num_rows:
            pacsv.write_csv(table, self._fh, self._OPTIONS)
        self.rows += table.num_rows

    def close(self) -> None:
        self._fh.close()


def _write_entity(landing: Path, entity: str, columns: dict[str, pa.Array]) -> int:
    sink = CsvSink(landing / f"{entity}.csv", entity)
    try:
        sink.write(columns)
    finally:
        sink.close()
    return sink.rows


# ---------------------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """The data range and the Japanese business calendar (with margins for future dates)."""

    start: date
    end: date
    first_month: int  # months since 1970-01 of the first data month
    n_months: int
    bdays: np.ndarray  # epoch days of business days, ascending

    @classmethod
    def build(cls, end: date, months: int) -> Calendar:
        first_month = end.year * 12 + end.month - 1 - (months - 1) - 1970 * 12
        start = date(1970 + first_month // 12, first_month % 12 + 1, 1)
        days = np.arange(
            _epoch_day(start) - CARRY_OVER_DAYS - 60, _epoch_day(end) + 3 * 366 + 45, dtype=np.int64
        )
        years = range(start.year - 1, end.year + 5)
        public = np.array([_epoch_day(d) for d in holidays.Japan(years=years)], dtype=np.int64)
        m_abs = _months_abs(days)
        month_of_year = m_abs % 12 + 1
        day_of_month = days - _month_first_day(m_abs) + 1
        closure = (
            ((month_of_year == 12) & (day_of_month >= 29))  # 年末年始
            | ((month_of_year == 1) & (day_of_month <= 3))
            | ((month_of_year == 8) & (day_of_month >= 13) & (day_of_month <= 16))  # お盆
        )
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        business = (weekday < 5) & ~np.isin(days, public) & ~closure
        return cls(start, end, first_month, months, days[business])

    @property
    def start_day(self) -> int:
        return _epoch_day(self.start)

    @property
    def end_day(self) -> int:
        return _epoch_day(self.end)

    @property
    def end_ts(self) -> int:
        """Last second of the end date."""
        return (self.end_day + 1) * DAY - 1

    @property
    def bt_start(self) -> int:
        """First business second on or after the start date."""
        return int(self.to_bt(np.array([self.start_day * DAY]))[0])

    @property
    def bt_end(self) -> int:
        """Last business second on or before the end date."""
        return int(self.to_bt(np.array([(self.end_day + 1) * DAY]))[0]) - 1

    def to_wall(self, bt: np.ndarray) -> np.ndarray:
        """Business seconds → epoch seconds (local time)."""
        bt = np.asarray(bt, dtype=np.int64)
        return self.bdays[bt // WORK_SECONDS] * DAY + WORK_START + bt % WORK_SECONDS

    def to_bt(self, ts: np.ndarray) -> np.ndarray:
        """Epoch seconds → the first business second at or after them."""
        ts = np.asarray(ts, dtype=np.int64)
        day = ts // DAY
        tod = ts - day * DAY
        rank = np.searchsorted(self.bdays, day)
        is_bday = self.bdays[np.minimum(rank, len(self.bdays) - 1)] == day
        offset = np.where(is_bday, np.clip(tod - WORK_START, 0, WORK_SECONDS), 0)
        return rank * WORK_SECONDS + offset

    def month_of(self, days: np.ndarray) -> np.ndarray:
        """Data month index (0 = first data month) of epoch days."""
        return _months_abs(days) - self.first_month

    def month_start(self, m: np.ndarray | int) -> np.ndarray:
        """Epoch day of the first day of data month m (any integer)."""
        return _month_first_day(self.first_month + np.asarray(m, dtype=np.int64))

    def month_bt_range(self, m: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """Business-second range [lo, hi) of data month m, cut at the end date."""
        lo = self.to_bt(self.month_start(m) * DAY)
        hi = np.minimum(self.to_bt(self.month_start(np.asarray(m) + 1) * DAY), self.bt_end + 1)
        return lo, hi

    def data_days(self) -> np.ndarray:
        return np.arange(self.start_day, self.end_day + 1, dtype=np.int64)

    def is_bday(self, days: np.ndarray) -> np.ndarray:
        return np.isin(days, self.bdays)

    def growth(self, days: np.ndarray) -> np.ndarray:
        """Business growth factor relative to the start of the data."""
        return GROWTH_PER_YEAR ** ((np.asarray(days) - self.start_day) / 365.25)


# ---------------------------------------------------------------------------------------------
# Organisation: agencies, teams, users
# ---------------------------------------------------------------------------------------------


@dataclass
class Team:
    team_id: str
    team_name: str
    kind: str  # sdr, ae, cs, agency
    segment: int = -1  # ae teams: 0 enterprise, 1 smb
    agency: int = -1


@dataclass
class Org:
    teams: list[Team]
    user_id: list[str] = field(default_factory=list)
    user_name: list[str] = field(default_factory=list)
    email: list[str] = field(default_factory=list)
    role: list[str] = field(default_factory=list)
    motion: list[str] = field(default_factory=list)
    team: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    agency: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    hired: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    left: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    skill: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weight: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def members(self, kind: str, *, segment: int | None = None, agency: int | None = None):
        """Indices of the non-manager users of teams of a kind (optionally a segment/agency)."""
        team_ok = np.array(
            [
                t.kind == kind
                and (segment is None or t.segment == segment)
                and (agency is None or t.agency == agency)
                for t in self.teams
            ]
        )
        roles = np.array(self.role)
        return np.flatnonzero(team_ok[self.team] & (roles != "MANAGER"))


def _people(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(family, given) name index pairs, distinct as long as the lists allow, and a repeat
    number for each pair (0 the first time) to keep e-mail addresses unique."""
    space = len(FAMILY_NAMES) * len(GIVEN_NAMES)
    rounds = -(-n // space)
    pick = np.concatenate([rng.permutation(space) for _ in range(rounds)])[:n]
    repeat = np.arange(n) // space
    return pick // len(GIVEN_NAMES), pick % len(GIVEN_NAMES), repeat


def _build_org(rng: np.random.Generator, cal: Calendar, scale: float) -> Org:
    """Teams and users; headcount grows with the scale above 1 (more teams)."""
    k = max(1, round(scale))
    teams: list[Team] = []

    def section(i: int) -> str:
        return f"{i}課" if k > 1 else "課"

    for i in range(1, k + 1):
        teams.append(Team(f"T-IS{i}", f"インサイドセールス{section(i)}", "sdr"))
    for i in range(1, 2 * k + 1):
        teams.append(Team(f"T-FS{i}", f"フィールドセールス{i}課", "ae", segment=(i - 1) % 2))
    for i in range(1, k + 1):
        teams.append(Team(f"T-CS{i}", f"カスタマーサクセス{section(i)}", "cs"))
    for a, (agency_id, _, _, short) in enumerate(AGENCIES):
        for i in range(1, k + 1):
            name = f"{short}派遣チーム" + (str(i) if k > 1 else "")
            teams.append(Team(f"T-{agency_id}-{i}", name, "agency", agency=a))

    # (team index, role, motion, hired day, left day) per user.
    start_day, end_day = cal.start_day, cal.end_day
    span = end_day - start_day
    april_firsts = [
        _epoch_day(date(y, 4, 1))
        for y in range(cal.start.year, cal.end.year + 1)
        if start_day + 30 < _epoch_day(date(y, 4, 1)) < end_day - 60
    ]
    rows: list[tuple[int, str, str, int, int]] = []

    def veteran() -> int:
        return int(cal.month_start(-int(rng.integers(2, 84))))

    for t, team in enumerate(teams):
        motion = "field" if team.kind == "ae" else "inside"
        if team.kind != "agency":
            rows.append((t, "MANAGER", motion, veteran(), NEVER))
        if team.kind == "sdr":
            size = int(rng.integers(6, 9))
            for j in range(size):
                rows.append((t, "SDR", motion, veteran(), NEVER))
                if j == 0 and span > 240:  # one SDR leaves during the data range
                    leave = start_day + int(span * rng.uniform(0.45, 0.7))
                    rows[-1] = (t, "SDR", motion, rows[-1][3], leave)
            if april_firsts:  # a new graduate joins on April 1 (新卒入社)
                rows.append((t, "SDR", motion, april_firsts[0], NEVER))
        elif team.kind == "ae":
            for _ in range(int(rng.integers(4, 7))):
                rows.append((t, "AE", motion, veteran(), NEVER))
            if span > 240:  # one mid-career AE hire (中途入社) during the data range
                hire = int(cal.month_start(int(cal.n_months * rng.uniform(0.25, 0.6))))
                rows.append((t, "AE", motion, hire, NEVER))
        elif team.kind == "cs":
            for _ in range(3):
                rows.append((t, "CS", motion, veteran(), NEVER))
        else:
            for _ in range(int(rng.integers(2, 4))):
                rows.append((t, "SDR", motion, veteran(), NEVER))

    family, given, repeat = _people(rng, len(rows))
    org = Org(teams=teams)
    for i, (_, role, motion, _, _) in enumerate(rows):
        fam, giv = FAMILY_NAMES[family[i]], GIVEN_NAMES[given[i]]
        org.user_id.append(f"U{i + 1:05d}")
        org.user_name.append(f"{fam[0]} {giv[0]}")
        number = str(repeat[i] + 1) if repeat[i] else ""
        org.email.append(f"{giv[1]}.{fam[1]}{number}@example.co.jp")
        org.role.append(role)
        org.motion.append(motion)
    org.team = np.array([r[0] for r in rows], dtype=np.int64)
    org.agency = np.array([teams[r[0]].agency for r in rows], dtype=np.int64)
    org.hired = np.array([r[3] for r in rows], dtype=np.int64)
    org.left = np.array([r[4] for r in rows], dtype=np.int64)
    org.skill = np.clip(rng.lognormal(0.0, 0.18, len(rows)), 0.65, 1.5)
    org.weight = rng.lognormal(0.0, 0.25, len(rows))
    return org


def _pick_owner(
    rng: np.random.Generator, org: Org, candidates: np.ndarray, days: np.ndarray, margin: int = 0
) -> np.ndarray:
    """For each day, a candidate user employed then (and `margin` days before leaving)."""
    days = np.asarray(days, dtype=np.int64)
    out = np.full(len(days), -1, dtype=np.int64)
    if len(days) == 0:
        return out
    hired = org.hired[candidates]
    last = np.where(org.left[candidates] >= NEVER, NEVER, org.left[candidates] - margin)
    cuts = np.unique(np.concatenate([hired, last + 1]))
    order = np.argsort(days, kind="stable")
    # Days between two consecutive cuts share the same pool of employed candidates.
    bounds = np.searchsorted(days[order], cuts)
    starts, stops = np.concatenate([[0], bounds]), np.concatenate([bounds, [len(days)]])
    for a, b in zip(starts, stops, strict=True):
        if a == b:
            continue
        sel = order[a:b]
        d = days[sel[0]]
        ok = (hired <= d) & (d <= last)
        if not ok.any():
            ok = hired <= max(d, hired.min())
        pool = candidates[ok]
        p = org.weight[pool] / org.weight[pool].sum()
        out[sel] = pool[rng.choice(len(pool), size=len(sel), p=p)]
    return out


# ---------------------------------------------------------------------------------------------
# Companies (accounts to be)
# ---------------------------------------------------------------------------------------------


@dataclass
class Companies:
    size: np.ndarray  # employee band index
    stem: np.ndarray
    middle: np.ndarray
    kind: np.ndarray
    form: np.ndarray  # 0 株式会社X, 1 X株式会社, 2 合同会社X
    prefecture: np.ndarray

    @classmethod
    def make(cls, rng: np.random.Generator, n: int, size_p: Sequence[float]) -> Companies:
        pref_w = np.array([w for _, w in PREFECTURES], dtype=float)
        return cls(
            size=rng.choice(4, size=n, p=np.asarray(size_p)),
            stem=rng.integers(0, len(COMPANY_STEMS), n),
            middle=rng.integers(0, len(COMPANY_MIDDLES), n),
            kind=rng.integers(0, len(COMPANY_KINDS), n),
            form=rng.choice(3, size=n, p=[0.68, 0.28, 0.04]),
            prefecture=rng.choice(len(PREFECTURES), size=n, p=pref_w / pref_w.sum()),
        )

    @classmethod
    def concat(cls, parts: Sequence[Companies]) -> Companies:
        return cls(
            **{
                name: np.concatenate([getattr(p, name) for p in parts])
                for name in ("size", "stem", "middle", "kind", "form", "prefecture")
            }
        )

    def __len__(self) -> int:
        return len(self.size)


def _company_names(c: Companies, idx: np.ndarray) -> pa.Array:
    core = _concat_strings(
        _labels(COMPANY_STEMS, c.stem[idx]),
        _labels(COMPANY_MIDDLES, c.middle[idx]),
        _labels([k for k, _ in COMPANY_KINDS], c.kind[idx]),
    )
    form = c.form[idx]
    prefix = _labels(("株式会社", "", "合同会社"), form)
    suffix = _labels(("", "株式会社", ""), form)
    return _concat_strings(prefix, core, suffix)


def _corporate_numbers(idx: np.ndarray) -> pa.Array:
    """Unique, valid-looking 法人番号: check digit + registry office (4) + 01 + serial (6)."""
    space = len(REGISTRY_OFFICES) * 1_000_000
    g = (np.asarray(idx, dtype=np.int64) * 7_919 + 4_242_421) % space
    office = np.array([int(o) for o in REGISTRY_OFFICES], dtype=np.int64)[g // 1_000_000]
    base = office * 100_000_000 + 1 * 1_000_000 + g % 1_000_000  # 12 digits
    total = np.zeros(len(base), dtype=np.int64)
    for n in range(1, 13):
        digit = (base // 10 ** (n - 1)) % 10
        total += digit * (1 if n % 2 else 2)
    check = 9 - total % 9
    return _ids("", check * 10**12 + base, 13)


# ---------------------------------------------------------------------------------------------
# Leads
# ---------------------------------------------------------------------------------------------


@dataclass
class Leads:
    created: np.ndarray  # epoch seconds
    source: np.ndarray
    owner: np.ndarray
    agency: np.ndarray
    company: np.ndarray
    n_touch: np.ndarray
    first_bt: np.ndarray
    last_bt: np.ndarray
    appointment_minutes: np.ndarray
    plan_convert: np.ndarray
    converted: np.ndarray  # converted by the end date
    converted_at: np.ndarray
    status: np.ndarray  # index into LEAD_STATUSES order: open, working, converted, disqualified
    opportunity: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    contact: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    account_known: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __len__(self) -> int:
        return len(self.created)


def _event_days(rng: np.random.Generator, cal: Calendar) -> tuple[np.ndarray, np.ndarray]:
    """Webinar days (3 a month, Tue-Thu) and trade-show lead import days with their weights."""
    bdays = cal.bdays[(cal.bdays >= cal.start_day) & (cal.bdays <= cal.end_day)]
    month = cal.month_of(bdays)
    midweek = np.isin((bdays + 3) % 7, (1, 2, 3))
    webinars = []
    for m in range(cal.n_months):
        pool = bdays[(month == m) & midweek]
        if len(pool):
            webinars.append(np.sort(rng.choice(pool, min(WEBINARS_PER_MONTH, len(pool)), False)))
    import_days, import_w = [], []
    for m in range(cal.n_months):
        first = int(cal.month_start(m))
        if (_months_abs(np.array([first]))[0] % 12 + 1) not in TRADE_SHOW_MONTHS:
            continue
        days = np.arange(first + 7, first + 14)
        wednesday = days[(days + 3) % 7 == 2][0]  # second-week Wednesday, show runs Wed-Fri
        after = cal.bdays[cal.bdays > wednesday + 2][:3]
        after = after[after <= cal.end_day]
        import_days.append(after)
        import_w.append(np.array([0.5, 0.3, 0.2])[: len(after)])
    webinar_days = np.concatenate(webinars) if webinars else np.zeros(0, np.int64)
    show_days = np.concatenate(import_days) if import_days else np.zeros(0, np.int64)
    show_w = np.concatenate(import_w) if import_w else np.zeros(0)
    return webinar_days, np.stack([show_days, show_w]) if len(show_days) else np.zeros((2, 0))


def _lead_created_times(
    rng: np.random.Generator, cal: Calendar, scale: float
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Creation time and source of every lead, with seasonality and event spikes."""
    days = cal.data_days()
    moy = _months_abs(days) % 12
    base = LEAD_SEASON[moy] * cal.growth(days)
    business = cal.is_bday(days)
    volume = LEADS_PER_BUSINESS_DAY * scale * float((base * business).sum())
    webinar_days, shows = _event_days(rng, cal)

    created, sources = [], []
    web_hours = np.array([0.2] * 7 + [0.5, 1.0] + [3.0] * 9 + [2.0, 1.5, 1.5, 1.2, 0.8, 0.4])
    for s in range(len(SOURCES)):
        if s in WEB_SOURCES:
            weight = base * np.where(business, 1.0, 0.3)
            expected = volume * SOURCE_SHARE[s] * 1.08
        elif s == SEMINAR:
            weight = np.where(np.isin(days, webinar_days), base, 0.0)
            expected = volume * SOURCE_SHARE[s]
        elif s == TRADE_SHOW:
            weight = np.zeros(len(days))
            if shows.shape[1]:
                np.add.at(weight, (shows[0].astype(np.int64) - cal.start_day), shows[1])
                weight *= base
            expected = volume * SOURCE_SHARE[s]
        else:
            weight = base * business
            expected = volume * SOURCE_SHARE[s]
        if weight.sum() <= 0:
            continue
        n = int(rng.poisson(expected))
        day = rng.choice(days, size=n, p=weight / weight.sum())
        if s in WEB_SOURCES:
            hour = rng.choice(24, size=n, p=web_hours / web_hours.sum())
            tod = hour * 3600 + rng.integers(0, 3600, n)
        elif s == SEMINAR:
            tod = rng.integers(15 * 3600, 18 * 3600, n)
        else:
            tod = rng.integers(9 * 3600 + 600, 18 * 3600 + 1800, n)
        created.append(day * DAY + tod)
        sources.append(np.full(n, s, dtype=np.int64))
    events = {"webinar_days": webinar_days, "show_days": shows[0].astype(np.int64)}
    if not created:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), events
    created_all, source_all = np.concatenate(created), np.concatenate(sources)
    order = np.lexsort((source_all, created_all))
    return created_all[order], source_all[order], events


def _lead_companies(rng: np.random.Generator, n: int, offset: int) -> tuple[np.ndarray, int]:
    """Company of each lead: mostly a new company, sometimes one seen in an earlier lead."""
    reuse = rng.random(n) < 0.12
    new_idx = np.flatnonzero(~reuse)
    company = np.full(n, -1, dtype=np.int64)
    company[new_idx] = offset + np.arange(len(new_idx))
    earlier_new = np.cumsum(~reuse) - (~reuse)  # new-company leads before each lead
    can = reuse & (earlier_new > 0)
    pick = (rng.random(n) * np.maximum(earlier_new, 1)).astype(np.int64)
    company[can] = company[new_idx[pick[can]]]
    orphans = reuse & ~can  # nothing to reuse yet: a new company after all
    company[orphans] = offset + len(new_idx) + np.arange(int(orphans.sum()))
    return company, len(new_idx) + int(orphans.sum())


def _build_leads(
    rng: np.random.Generator, cal: Calendar, org: Org, scale: float, company_offset: int
) -> tuple[Leads, int, dict[str, np.ndarray]]:
    """Leads with their owners, companies, touch schedule and outcome."""
    created, source, events = _lead_created_times(rng, cal, scale)
    n = len(created)
    day = created // DAY

    owner = np.full(n, -1, dtype=np.int64)
    agency = np.full(n, -1, dtype=np.int64)
    inhouse = source != AGENCY
    owner[inhouse] = _pick_owner(rng, org, org.members("sdr"), day[inhouse], margin=90)
    agency_leads = np.flatnonzero(~inhouse)
    agency[agency_leads] = rng.choice(len(AGENCIES), size=len(agency_leads), p=AGENCY_LEAD_SHARE)
    for a in range(len(AGENCIES)):
        sel = agency_leads[agency[agency_leads] == a]
        owner[sel] = _pick_owner(rng, org, org.members("agency", agency=a), day[sel])
    company, n_companies = _lead_companies(rng, n, company_offset)

    # Outcome: worked or not, converted, disqualified or back to nurture.
    worked = rng.random(n) < P_WORKED[source]
    p_conv = np.clip(P_CONVERT[source] / P_WORKED[source] * org.skill[owner], 0, 0.95)
    plan_convert = worked & (rng.random(n) < p_conv)
    disqualify = worked & ~plan_convert & (rng.random(n) < 0.7)

    # Touch schedule in business seconds.
    n_touch = np.where(
        plan_convert,
        1 + rng.poisson(TOUCHES_BEFORE_APPOINTMENT[source]),
        np.where(disqualify, 2 + rng.poisson(TOUCHES_DISQUALIFIED[source]), 2 + rng.poisson(2, n)),
    )
    n_touch = np.where(worked, n_touch, 0)
    created_bt = cal.to_bt(created)
    lag = np.clip(_lognormal(rng, FIRST_TOUCH_LAG[source], 0.8, n), 60, 20 * WORK_SECONDS)
    first_bt = created_bt + lag.astype(np.int64)
    span_days = np.where(
        plan_convert,
        _lognormal(rng, SPAN_CONVERTED[source], 0.6, n),
        _lognormal(rng, np.where(disqualify, SPAN_DISQUALIFIED[source], 4), 0.6, n),
    )
    span = (np.clip(span_days, 0.05, 60) * WORK_SECONDS).astype(np.int64)
    span = np.where(n_touch > 1, np.maximum(span, n_touch * 600), 0)
    last_bt = first_bt + span
    appointment_minutes = rng.integers(5, 16, n)

    converted_at = cal.to_wall(last_bt) + appointment_minutes * 60 + rng.integers(60, 1800, n)
    converted = plan_convert & (converted_at <= cal.end_ts)
    resolved = last_bt + rng.integers(600, 2 * WORK_SECONDS, n) <= cal.bt_end
    status = np.select(
        [
            ~worked | (first_bt > cal.bt_end),
            converted,
            plan_convert,
            ~resolved,
            disqualify,
        ],
        [0, 2, 1, 1, 3],
        default=0,  # nurtured: back to open after a few touches
    )
    leads = Leads(
        created=created,
        source=source,
        owner=owner,
        agency=agency,
        company=company,
        n_touch=n_touch.astype(np.int64),
        first_bt=first_bt,
        last_bt=last_bt,
        appointment_minutes=appointment_minutes,
        plan_convert=plan_convert,
        converted=converted,
        converted_at=np.where(converted, converted_at, -1),
        status=status,
    )
    return leads, n_companies, events


# ---------------------------------------------------------------------------------------------
# Opportunities and the sales pipeline
# ---------------------------------------------------------------------------------------------


@dataclass
class Opps:
    """A batch of opportunities with their planned stage path (business seconds)."""

    company: np.ndarray
    owner: np.ndarray
    lead: np.ndarray
    source: np.ndarray  # lead source, -1 when AE-sourced or a customer deal
    otype: np.ndarray
    created: np.ndarray  # epoch seconds
    created_bt: np.ndarray
    entry: np.ndarray  # (n, 4) planned entry into the open stages, -1 when skipped
    close_bt: np.ndarray  # planned close
    won: np.ndarray  # planned outcome
    amount: np.ndarray
    lost_reason: np.ndarray
    approach_by: np.ndarray  # user who created the opportunity (approach row)

    FIELDS = ("company", "owner", "lead", "source", "otype", "created", "created_bt", "entry",
              "close_bt", "won", "amount", "lost_reason", "approach_by")  # fmt: skip

    def __len__(self) -> int:
        return len(self.company)

    @classmethod
    def concat(cls, parts: Sequence[Opps]) -> Opps:
        return cls(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in cls.FIELDS})

    def take(self, idx: np.ndarray) -> Opps:
        return Opps(**{f: getattr(self, f)[idx] for f in self.FIELDS})

    def closed(self, cal: Calendar) -> np.ndarray:
        return self.close_bt <= cal.bt_end

    def stage_now(self, cal: Calendar) -> np.ndarray:
        entered = (self.entry >= 0) & (self.entry <= cal.bt_end)
        entered[:, 0] = True  # created on or before the end date
        current = 3 - np.argmax(entered[:, ::-1], axis=1)
        closed = self.closed(cal)
        return np.where(closed, np.where(self.won, CLOSED_WON, CLOSED_LOST), current)


@dataclass
class Pipeline:
    entry: np.ndarray
    close_bt: np.ndarray
    won: np.ndarray


def _simulate_pipeline(
    rng: np.random.Generator,
    cal: Calendar,
    created_bt: np.ndarray,
    win_prob: np.ndarray,
    speed: np.ndarray,
    cap_bt: np.ndarray | None = None,
) -> Pipeline:
    """Plan the stage path of each deal: stage entries, close time and outcome."""
    n = len(created_bt)
    won = rng.random(n) < win_prob
    last = np.where(won, 3, rng.choice(4, size=n, p=LOST_AT_STAGE))
    stage = np.arange(4)[None, :]
    bdays = rng.lognormal(np.log(STAGE_MEDIAN_BDAYS)[None, :], 0.55, (n, 4)) * speed[:, None]
    lost_here = (~won)[:, None] & (stage == last[:, None])
    bdays = np.where(lost_here, bdays * rng.uniform(0.4, 1.2, (n, 1)), bdays)
    secs = (np.clip(bdays, 0.25, 120) * WORK_SECONDS).astype(np.int64)
    skip = (rng.random((n, 4)) < P_SKIP_STAGE) & (stage >= 1) & (stage < last[:, None])
    entered = (stage <= last[:, None]) & ~skip
    secs = np.where(entered, secs, 0)
    if cap_bt is not None:  # squeeze the path to close before the cap
        total = secs.sum(axis=1)
        room = np.maximum(cap_bt - created_bt, 4 * 60)
        factor = np.where(total > room, room / np.maximum(total, 1), 1.0)
        secs = np.where(entered, np.maximum((secs * factor[:, None]).astype(np.int64), 30), 0)
    cum = np.cumsum(secs, axis=1)
    entry = created_bt[:, None] + np.concatenate([np.zeros((n, 1), np.int64), cum[:, :-1]], axis=1)
    entry = np.where(entered, entry, -1)
    close_bt = created_bt + cum[:, 3]
    close_bt = _fiscal_push(rng, cal, close_bt, entry.max(axis=1), won, cap_bt)
    return Pipeline(entry=entry, close_bt=close_bt, won=won)


def _fiscal_push(
    rng: np.random.Generator,
    cal: Calendar,
    close_bt: np.ndarray,
    last_entry: np.ndarray,
    won: np.ndarray,
    cap_bt: np.ndarray | None,
) -> np.ndarray:
    """Won deals near fiscal year-end (March) and half-year end (September) close in its
    second half: the 期末 push."""
    day = cal.to_wall(close_bt) // DAY
    m_abs = _months_abs(day)
    moy = m_abs % 12 + 1
    dom = day - _month_first_day(m_abs) + 1
    window = (
        ((moy == 3) & (dom >= 10))
        | ((moy == 4) & (dom <= 25))
        | ((moy == 9) & (dom >= 10))
        | ((moy == 10) & (dom <= 20))
    )
    target = np.where(np.isin(moy, (3, 9)), m_abs, m_abs - 1)
    lo = cal.to_bt((_month_first_day(target) + 15) * DAY)
    hi = cal.to_bt(_month_first_day(target + 1) * DAY)
    new = _uniform_int(rng, lo, np.maximum(hi, lo + 1))
    ok = won & window & (rng.random(len(close_bt)) < 0.85) & (new > last_entry + 3600)
    if cap_bt is not None:
        ok &= new <= cap_bt
    return np.where(ok, new, close_bt)


def _deal_amounts(rng: np.random.Generator, size_band: np.ndarray, won: np.ndarray) -> np.ndarray:
    """First-year contract value in JPY (log-normal by company size, discount on won deals)."""
    amount = _lognormal(rng, DEAL_MEDIAN_BY_BAND[size_band], 0.45, len(size_band))
    amount = np.where(won, amount * rng.uniform(0.85, 1.0, len(size_band)), amount)
    return (np.clip(np.round(amount, -3), MIN_DEAL, MAX_DEAL)).astype(np.int64)


def _segment(size_band: np.ndarray) -> np.ndarray:
    """0 enterprise (300+ employees, フィールドセールス1課), 1 SMB."""
    return np.where(size_band >= 2, 0, 1)


def _assign_aes(rng: np.random.Generator, org: Org, segment: np.ndarray, days: np.ndarray):
    owner = np.full(len(days), -1, dtype=np.int64)
    for seg in (0, 1):
        sel = np.flatnonzero(segment == seg)
        owner[sel] = _pick_owner(rng, org, org.members("ae", segment=seg), days[sel])
    return owner


def _make_opps(
    rng: np.random.Generator,
    cal: Calendar,
    org: Org,
    *,
    company: np.ndarray,
    size_band: np.ndarray,
    created: np.ndarray,
    otype: int,
    win_prob: np.ndarray,
    speed: np.ndarray,
    lead: np.ndarray | None = None,
    source: np.ndarray | None = None,
    approach_by: np.ndarray | None = None,
    amount: np.ndarray | None = None,
    cap_bt: np.ndarray | None = None,
) -> Opps:
    """Create a batch of opportunities: owner, stage path, amount, lost reason."""
    n = len(company)
    owner = _assign_aes(rng, org, _segment(size_band), created // DAY)
    created_bt = cal.to_bt(created)
    win = np.clip(win_prob * org.skill[owner], 0.02, 0.97) if n else win_prob
    path = _simulate_pipeline(rng, cal, created_bt, win, speed, cap_bt)
    if amount is None:
        amount = _deal_amounts(rng, size_band, path.won)
    none = np.full(n, -1, dtype=np.int64)
    return Opps(
        company=company,
        owner=owner,
        lead=none if lead is None else lead,
        source=none if source is None else source,
        otype=np.full(n, otype, dtype=np.int64),
        created=created,
        created_bt=created_bt,
        entry=path.entry,
        close_bt=path.close_bt,
        won=path.won,
        amount=amount,
        lost_reason=np.where(path.won, -1, rng.choice(len(LOST_REASONS), n, p=LOST_REASON_P)),
        approach_by=owner if approach_by is None else approach_by,
    )


def _new_business_opps(
    rng: np.random.Generator,
    cal: Calendar,
    org: Org,
    leads: Leads,
    companies: Companies,
    ae_company_offset: int,
) -> tuple[Opps, int]:
    """Opportunities from converted leads plus AE-sourced ones (on new AE companies)."""
    conv = np.flatnonzero(leads.converted)
    size = companies.size[leads.company[conv]]
    speed = np.where(size >= 2, 1.35, 0.8) * rng.lognormal(0, 0.2, len(conv))
    from_leads = _make_opps(
        rng,
        cal,
        org,
        company=leads.company[conv],
        size_band=size,
        created=leads.converted_at[conv],
        otype=NEW,
        win_prob=WIN_RATE[leads.source[conv]],
        speed=speed,
        lead=conv,
        source=leads.source[conv],
        approach_by=leads.owner[conv],
    )
    n_ae = int(rng.poisson(AE_SOURCED_SHARE * len(conv)))
    days = cal.data_days()
    weight = LEAD_SEASON[_months_abs(days) % 12] * cal.growth(days) * cal.is_bday(days)
    day = rng.choice(days, size=n_ae, p=weight / weight.sum())
    created = day * DAY + rng.integers(9 * 3600 + 900, 18 * 3600 + 1800, n_ae)
    ae_company = ae_company_offset + np.arange(n_ae)
    ae_size = companies.size[ae_company]
    ae_sourced = _make_opps(
        rng,
        cal,
        org,
        company=ae_company,
        size_band=ae_size,
        created=created,
        otype=NEW,
        win_prob=np.full(n_ae, AE_SOURCED_WIN_RATE),
        speed=np.where(ae_size >= 2, 1.4, 0.9) * rng.lognormal(0, 0.2, n_ae),
    )
    carried = _carry_over_opps(
        rng, cal, org, companies, ae_company_offset + n_ae, (len(conv) + n_ae) / cal.n_months
    )
    return Opps.concat([from_leads, ae_sourced, carried.opps]), n_ae + carried.n_companies


@dataclass
class CarryOver:
    opps: Opps
    n_companies: int


def _carry_over_opps(
    rng: np.random.Generator,
    cal: Calendar,
    org: Org,
    companies: Companies,
    company_offset: int,
    per_month: float,
) -> CarryOver:
    """Deals created before the data start and still open at it, so that the pipeline is not
    empty in the first months. They come without lead (their leads predate the export)."""
    days = cal.bdays[(cal.bdays >= cal.start_day - CARRY_OVER_DAYS) & (cal.bdays < cal.start_day)]
    n = int(rng.poisson(per_month * CARRY_OVER_DAYS / 30.4)) if len(days) else 0
    created = rng.choice(days, size=n) * DAY + rng.integers(9 * 3600 + 900, 18 * 3600 + 1800, n)
    company = company_offset + np.arange(n)
    size = companies.size[company]
    batch = _make_opps(
        rng,
        cal,
        org,
        company=company,
        size_band=size,
        created=created,
        otype=NEW,
        win_prob=np.full(n, 0.26),
        speed=np.where(size >= 2, 1.35, 0.8) * rng.lognormal(0, 0.2, n),
    )
    keep = np.flatnonzero(batch.close_bt >= cal.bt_start)
    opps = batch.take(keep)
    opps.company = company_offset + np.arange(len(keep))  # no gaps in the company numbers
    return CarryOver(opps=opps, n_companies=len(keep))


# ---------------------------------------------------------------------------------------------
# Subscriptions: new customers, renewals, expansions, contractions, churn
# ---------------------------------------------------------------------------------------------


class ItemTable:
    """Growing table of subscription line items."""

    def __init__(self) -> None:
        self.sub: list[np.ndarray] = []
        self.start: list[np.ndarray] = []
        self.mrr: list[np.ndarray] = []
        self.opp: list[np.ndarray] = []
        self.end = np.zeros(0, dtype=np.int64)
        self.count = 0

    def append(self, sub, start, mrr, opp) -> np.ndarray:
        n = len(sub)
        self.sub.append(np.array(sub, np.int64))  # copies: callers keep mutating their state
        self.start.append(np.broadcast_to(np.asarray(start, np.int64), (n,)).copy())
        self.mrr.append(np.array(mrr, np.int64))
        self.opp.append(np.array(opp, np.int64))
        self.end = np.concatenate([self.end, np.full(n, -1, np.int64)])
        ids = np.arange(self.count, self.count + n)
        self.count += n
        return ids

    def set_end(self, ids: np.ndarray, end_day: np.ndarray | int) -> None:
        self.end[ids] = end_day

    def arrays(self) -> dict[str, np.ndarray]:
        cat = (lambda x: np.concatenate(x)) if self.sub else (lambda x: np.zeros(0, np.int64))
        return {
            "sub": cat(self.sub),
            "start": cat(self.start),
            "end": self.end,
            "mrr": cat(self.mrr),
            "opp": cat(self.opp),
        }


@dataclass
class Subscriptions:
    company: np.ndarray
    start_month: np.ndarray
    cs_owner: np.ndarray
    items: dict[str, np.ndarray]
    active_by_month: list[np.ndarray]
    extra_opps: Opps | None


def _run_subscriptions(
    rng: np.random.Generator,
    cal: Calendar,
    org: Org,
    companies: Companies,
    base_company: np.ndarray,
    base_start_month: np.ndarray,
    base_mrr: np.ndarray,
    opps: Opps,
    opp_offset: int,
) -> Subscriptions:
    """Month-by-month customer lifecycle; creates expansion and renewal opportunities."""
    won_new = np.flatnonzero(opps.won & opps.closed(cal) & (opps.otype == NEW))
    close_day = cal.to_wall(opps.close_bt[won_new]) // DAY
    company = np.concatenate([base_company, opps.company[won_new]])
    start_m = np.concatenate([base_start_month, cal.month_of(close_day) + 1])
    mrr = np.concatenate([base_mrr, np.round(opps.amount[won_new] / 12).astype(np.int64)])
    first_opp = np.concatenate([np.full(len(base_company), -1), won_new])
    n = len(company)
    cs = _pick_owner(
        rng, org, org.members("cs"), np.maximum(cal.month_start(start_m), cal.start_day)
    )
    tracked = (mrr >= 300_000) | (rng.random(n) < 0.15)  # renewals handled as opportunities

    items = ItemTable()
    current = items.append(np.arange(n), cal.month_start(start_m), mrr, first_opp)
    ended = np.zeros(n, bool)
    churn_m = np.full(n, NEVER)
    pending_m = np.full(n, NEVER)
    pending_mrr = np.zeros(n, np.int64)
    pending_opp = np.full(n, -1)
    busy_until = np.full(n, -NEVER)
    extra: list[Opps] = []
    n_extra = 0
    active_by_month = []

    def open_deals(sel: np.ndarray, m: int, otype: int, amount: np.ndarray, cap=None) -> Opps:
        lo, hi = cal.month_bt_range(m)
        created_bt = _uniform_int(rng, np.full(len(sel), lo), np.full(len(sel), max(hi, lo + 1)))
        speed = (0.45 if otype == RENEWAL else 0.6) * rng.lognormal(0, 0.2, len(sel))
        batch = _make_opps(
            rng,
            cal,
            org,
            company=company[sel],
            size_band=companies.size[company[sel]],
            created=cal.to_wall(created_bt),
            otype=otype,
            win_prob=np.full(len(sel), 0.88 if otype == RENEWAL else 0.6),
            speed=speed,
            amount=amount,
            cap_bt=cap,
        )
        extra.append(batch)
        return batch

    for m in range(cal.n_months):
        first_day = int(cal.month_start(m))
        change = np.flatnonzero(pending_m == m)
        items.set_end(current[change], first_day - 1)
        current[change] = items.append(change, first_day, pending_mrr[change], pending_opp[change])
        mrr[change] = pending_mrr[change]
        pending_m[change] = NEVER

        active = (start_m <= m) & ~ended
        active_by_month.append(np.flatnonzero(active))
        free = active & (busy_until < m) & (pending_m == NEVER) & (churn_m == NEVER)
        age = m - start_m

        # Renewal opportunities two months before the contract anniversary.
        due = np.flatnonzero(free & tracked & (age + 2 > 0) & ((age + 2) % 12 == 0))
        if len(due):
            uplift = rng.random(len(due)) < 0.3
            new_mrr = np.where(
                uplift, np.round(mrr[due] * rng.uniform(1.03, 1.1, len(due))), mrr[due]
            )
            cap = np.full(len(due), cal.to_bt(np.array([int(cal.month_start(m + 2)) * DAY]))[0] - 1)
            batch = open_deals(due, m, RENEWAL, (new_mrr * 12).astype(np.int64), cap)
            ids = opp_offset + n_extra + np.arange(len(due))
            n_extra += len(due)
            closed = batch.closed(cal)
            busy_until[due] = m + 2
            won_up = closed & batch.won & uplift
            pending_m[due[won_up]] = m + 2
            pending_mrr[due[won_up]] = new_mrr[won_up].astype(np.int64)
            pending_opp[due[won_up]] = ids[won_up]
            lost = closed & ~batch.won
            churn_m[due[lost]] = m + 1  # ends the day before the anniversary
        free[due] = False

        # Churn: mostly at the contract anniversary, sometimes mid-term.
        at_anniversary = (age + 1 > 0) & ((age + 1) % 12 == 0) & ~tracked
        hazard = np.where(at_anniversary, 0.10, 0.006)
        churn = free & (rng.random(n) < hazard)
        churn_m[churn] = m
        free &= ~churn

        # Expansion (アップセル) opportunities and contractions.
        renewal_soon = np.isin((age + np.arange(1, 4)[:, None]) % 12, 0).any(axis=0)
        expand = np.flatnonzero(free & (age >= 3) & ~renewal_soon & (rng.random(n) < 0.025))
        if len(expand):
            delta = np.round(mrr[expand] * rng.uniform(0.15, 0.8, len(expand)) * 12, -3)
            amount = np.maximum(delta, 12_000).astype(np.int64)
            batch = open_deals(expand, m, EXPANSION, amount)
            ids = opp_offset + n_extra + np.arange(len(expand))
            n_extra += len(expand)
            closed = batch.closed(cal)
            close_m = cal.month_of(cal.to_wall(batch.close_bt) // DAY)
            busy_until[expand] = np.where(closed, close_m + 1, NEVER)
            won = closed & batch.won
            pending_m[expand[won]] = close_m[won] + 1
            pending_mrr[expand[won]] = mrr[expand[won]] + np.round(amount[won] / 12).astype(int)
            pending_opp[expand[won]] = ids[won]
            free[expand] = False
        contract = np.flatnonzero(free & (age >= 3) & (rng.random(n) < 0.003))
        pending_m[contract] = m + 1
        pending_mrr[contract] = np.round(mrr[contract] * rng.uniform(0.6, 0.9, len(contract)))
        pending_opp[contract] = -1

        gone = np.flatnonzero(churn_m == m)
        items.set_end(current[gone], int(cal.month_start(m + 1)) - 1)
        ended[gone] = True

    # Changes and churn already agreed for the months after the end date.
    later = np.flatnonzero(pending_m < NEVER)
    for m in np.unique(pending_m[later]):
        sel = later[pending_m[later] == m]
        items.set_end(current[sel], int(cal.month_start(m)) - 1)
        current[sel] = items.append(
            sel, int(cal.month_start(m)), pending_mrr[sel], pending_opp[sel]
        )
    gone = np.flatnonzero((churn_m < NEVER) & ~ended)
    items.set_end(current[gone], cal.month_start(churn_m[gone] + 1) - 1)

    return Subscriptions(
        company=company,
        start_month=start_m,
        cs_owner=cs,
        items=items.arrays(),
        active_by_month=active_by_month,
        extra_opps=Opps.concat(extra) if extra else None,
    )


def _base_customers(
    rng: np.random.Generator, cal: Calendar, n: int, offset: int, companies: Companies
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers already under contract when the data starts: company, start month, MRR."""
    company = offset + np.arange(n)
    start_month = -(np.floor(72 * rng.random(n) ** 1.6).astype(np.int64) + 1)
    amount = _deal_amounts(rng, companies.size[company], np.ones(n, bool))
    return company, start_month, np.round(amount / 12).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# The model: everything except activities, spend and targets
# ---------------------------------------------------------------------------------------------


@dataclass
class Model:
    cal: Calendar
    scale: float
    seed: int
    org: Org
    companies: Companies
    leads: Leads
    opps: Opps
    opp_no: np.ndarray
    subs: Subscriptions
    account_no: np.ndarray  # per company, -1 when the company has no account
    account_created: np.ndarray
    events: dict[str, np.ndarray]
    n_base: int
    contacts: dict[str, np.ndarray]


def build_model(cal: Calendar, scale: float, seed: int) -> Model:
    """Simulate the organisation, leads, deals and customers."""
    org = _build_org(_rng(seed, _S_ORG), cal, scale)
    rng_c = _rng(seed, _S_COMPANIES)
    n_base = round(BASE_CUSTOMERS * scale)
    leads, n_lead_companies, events = _build_leads(_rng(seed, _S_LEADS), cal, org, scale, n_base)

    # Companies: base customers, lead companies, AE-sourced prospects (sized once we know n).
    base = Companies.make(rng_c, n_base, [0.25, 0.45, 0.2, 0.1])
    lead_cos = Companies.make(rng_c, n_lead_companies, [0.38, 0.36, 0.16, 0.10])
    pool = int(0.5 * len(leads)) + 50  # AE-sourced and carried-over deals (~5 % of leads)
    ae_pool = Companies.make(rng_c, pool, [0.1, 0.3, 0.35, 0.25])
    companies = Companies.concat([base, lead_cos, ae_pool])

    rng_o = _rng(seed, _S_OPPS)
    new_opps, n_ae = _new_business_opps(
        rng_o, cal, org, leads, companies, n_base + n_lead_companies
    )
    n_companies = n_base + n_lead_companies + n_ae
    companies = Companies(**{k: v[:n_companies] for k, v in vars(companies).items()})

    rng_s = _rng(seed, _S_SUBS)
    base_company, base_start, base_mrr = _base_customers(rng_s, cal, n_base, 0, companies)
    subs = _run_subscriptions(
        rng_s, cal, org, companies, base_company, base_start, base_mrr, new_opps, len(new_opps)
    )
    opps = new_opps if subs.extra_opps is None else Opps.concat([new_opps, subs.extra_opps])
    opp_no = _rank_ids([np.arange(len(opps)), opps.created])

    leads.opportunity = np.full(len(leads), -1, dtype=np.int64)
    from_lead = np.flatnonzero(opps.lead >= 0)
    leads.opportunity[opps.lead[from_lead]] = from_lead

    account_no, account_created = _accounts(rng_c, cal, leads, opps, companies, n_base, base_start)
    leads.account_known = (account_no[leads.company] > 0) & (
        leads.converted | (rng_c.random(len(leads)) < 0.6)
    )
    contacts = _contacts(_rng(seed, _S_CONTACTS), leads, opps, n_base, account_created)
    return Model(
        cal=cal,
        scale=scale,
        seed=seed,
        org=org,
        companies=companies,
        leads=leads,
        opps=opps,
        opp_no=opp_no,
        subs=subs,
        account_no=account_no,
        account_created=account_created,
        events=events,
        n_base=n_base,
        contacts=contacts,
    )


def _accounts(
    rng: np.random.Generator,
    cal: Calendar,
    leads: Leads,
    opps: Opps,
    companies: Companies,
    n_base: int,
    base_start: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """When each company became an account (取引先) and its account number (-1: none)."""
    n = len(companies)
    created = np.full(n, NEVER, dtype=np.int64)
    # Base customers: created a few months before their first contract.
    base_day = cal.month_start(base_start) - rng.integers(30, 180, n_base)
    created[:n_base] = base_day * DAY + rng.integers(10 * 3600, 18 * 3600, n_base)
    # Target lists imported for outbound calling create accounts before the lead.
    listed = np.isin(leads.source, (OUTBOUND, AGENCY)) & (rng.random(len(leads)) < 0.6)
    listed_at = leads.created - rng.integers(1, 60, len(leads)) * DAY
    np.minimum.at(created, leads.company[listed], listed_at[listed])
    # Conversions create the account at the conversion.
    conv = leads.converted
    np.minimum.at(created, leads.company[conv], leads.converted_at[conv])
    # AE-sourced prospects are set up a few days before the opportunity.
    ae = (opps.lead < 0) & (opps.otype == NEW)
    ae_at = opps.created[ae] - rng.integers(1, 21, int(ae.sum())) * DAY
    np.minimum.at(created, opps.company[ae], ae_at)
    has = created <= cal.end_ts
    account_no = np.full(n, -1, dtype=np.int64)
    idx = np.flatnonzero(has)
    account_no[idx] = _rank_ids([idx, created[idx]])
    return account_no, created


# ---------------------------------------------------------------------------------------------
# Entity tables
# ---------------------------------------------------------------------------------------------


def _agencies_table() -> dict[str, pa.Array]:
    return {
        "agency_id": pa.array([a[0] for a in AGENCIES]),
        "agency_name": pa.array([a[1] for a in AGENCIES]),
        "fee_model": pa.array([a[2] for a in AGENCIES]),
    }


def _users_table(m: Model) -> dict[str, pa.Array]:
    org = m.org
    return {
        "user_id": pa.array(org.user_id),
        "user_name": pa.array(org.user_name),
        "email": pa.array(org.email),
        "team_id": pa.array([org.teams[t].team_id for t in org.team]),
        "team_name": pa.array([org.teams[t].team_name for t in org.team]),
        "role": pa.array(org.role),
        "motion": pa.array(org.motion),
        "agency_id": _labels([a[0] for a in AGENCIES], org.agency),
        "hired_date": _dates(org.hired),
        "is_active": pa.array(org.left >= NEVER),
    }


def _accounts_table(m: Model) -> dict[str, pa.Array]:
    idx = np.flatnonzero(m.account_no > 0)
    idx = idx[np.argsort(m.account_no[idx])]
    c = m.companies
    return {
        "account_id": _ids("ACC-", m.account_no[idx], 8),
        "account_name": _company_names(c, idx),
        "corporate_number": _corporate_numbers(idx),
        "industry": _labels(INDUSTRIES, np.array([k[1] for k in COMPANY_KINDS])[c.kind[idx]]),
        "employee_band": _labels(EMPLOYEE_BANDS, c.size[idx]),
        # The demo CRM keeps the band, not the head count.
        "employee_count": _ids("", np.full(len(idx), -1), 1),
        "prefecture": _labels([p for p, _ in PREFECTURES], c.prefecture[idx]),
        "created_at": _timestamps(m.account_created[idx]),
    }


def _contacts(
    rng: np.random.Generator,
    leads: Leads,
    opps: Opps,
    n_base: int,
    account_created: np.ndarray,
) -> dict[str, np.ndarray]:
    """Contacts: one per converted lead and AE-sourced deal, 1-3 per base customer.

    Sets `leads.contact`; returns company, created_at, contact number and name draws.
    """
    conv = np.flatnonzero(leads.converted)
    ae = np.flatnonzero((opps.lead < 0) & (opps.otype == NEW))
    n_per_base = rng.integers(1, 4, n_base)
    base_co = np.repeat(np.arange(n_base), n_per_base)
    base_at = account_created[base_co] + rng.integers(1, 40, len(base_co)) * DAY
    company = np.concatenate([leads.company[conv], opps.company[ae], base_co])
    created = np.concatenate([leads.converted_at[conv], opps.created[ae] - 60, base_at])
    contact_no = _rank_ids([np.arange(len(company)), created])
    leads.contact = np.full(len(leads), -1, dtype=np.int64)
    leads.contact[conv] = contact_no[: len(conv)]
    order = np.argsort(contact_no)
    n = len(order)
    return {
        "company": company[order],
        "created": created[order],
        "number": contact_no[order],
        "family": rng.integers(0, len(FAMILY_NAMES), n),
        "given": rng.integers(0, len(GIVEN_NAMES), n),
        "position": rng.choice(len(POSITIONS), size=n, p=POSITION_P),
        "department": rng.integers(0, len(DEPARTMENTS), n),
        "phone": rng.integers(0, 100_000_000, n),
    }


def _contacts_table(m: Model) -> dict[str, pa.Array]:
    c = m.contacts
    company, created, numbers = c["company"], c["created"], c["number"]
    family, given, position = c["family"], c["given"], c["position"]
    department, phone = c["department"], c["phone"]
    executive = position >= POSITIONS.index("代表取締役")
    title = _concat_strings(
        _labels(DEPARTMENTS, np.where(executive, -1, department)).fill_null(""),
        _labels(("", " "), np.where(executive, 0, 1)),
        _labels(POSITIONS, position),
    )
    email = _concat_strings(
        pc.utf8_slice_codeunits(_labels([g[1] for g in GIVEN_NAMES], given), 0, 1),
        ".",
        _labels([f[1] for f in FAMILY_NAMES], family),
        _ids("", numbers, 1),
        "@example.com",
    )
    return {
        "contact_id": _ids("CON-", numbers, 8),
        "account_id": _ids("ACC-", m.account_no[company], 8),
        "full_name": _concat_strings(
            _labels([f[0] for f in FAMILY_NAMES], family),
            " ",
            _labels([g[0] for g in GIVEN_NAMES], given),
        ),
        "email": email,
        "phone": _concat_strings(
            "03-", _ids("", phone // 10_000, 4), "-", _ids("", phone % 10_000, 4)
        ),
        "title": title,
        "created_at": _timestamps(created),
    }


def _leads_table(m: Model) -> dict[str, pa.Array]:
    leads = m.leads
    n = len(leads)
    account = np.where(leads.account_known, m.account_no[leads.company], -1)
    opp = np.where(leads.opportunity >= 0, m.opp_no[np.maximum(leads.opportunity, 0)], -1)
    return {
        "lead_id": _ids("LEAD-", np.arange(1, n + 1), 8),
        "created_at": _timestamps(leads.created),
        "lead_source": _labels(SOURCES, leads.source),
        "lead_status": _labels(("open", "working", "converted", "disqualified"), leads.status),
        "owner_id": _labels(m.org.user_id, leads.owner),
        "agency_id": _labels([a[0] for a in AGENCIES], leads.agency),
        "account_id": _ids("ACC-", account, 8),
        "contact_id": _ids("CON-", leads.contact, 8),
        "converted_at": _timestamps(leads.converted_at, mask=~leads.converted),
        "converted_opportunity_id": _ids("OPP-", opp, 8),
    }


def _opportunities_table(m: Model) -> dict[str, pa.Array]:
    o, cal = m.opps, m.cal
    order = np.argsort(m.opp_no)
    closed = o.closed(cal)[order]
    won = o.won[order] & closed
    close_day = cal.to_wall(o.close_bt[order]) // DAY
    return {
        "opportunity_id": _ids("OPP-", m.opp_no[order], 8),
        "account_id": _ids("ACC-", m.account_no[o.company[order]], 8),
        "owner_id": _labels(m.org.user_id, o.owner[order]),
        "lead_id": _ids("LEAD-", np.where(o.lead[order] >= 0, o.lead[order] + 1, -1), 8),
        # The demo CRM keeps the SDR on the lead (its owner), not on the deal.
        "sdr_id": _ids("", np.full(len(order), -1), 8),
        "created_at": _timestamps(o.created[order]),
        "close_date": _dates(close_day),
        "opportunity_stage": _labels(STAGES, o.stage_now(cal)[order]),
        "amount": _ints(o.amount[order]),
        # The plan the deal is priced at: the product tier of its monthly value.
        "product": _labels(
            PRODUCTS, np.searchsorted(PRODUCT_MRR_FLOOR, o.amount[order] / 12, side="right") - 1
        ),
        "currency": _const(CURRENCY, len(order)),
        "opportunity_type": _labels(OPPORTUNITY_TYPES, o.otype[order]),
        "is_closed": pa.array(closed),
        "is_won": pa.array(won),
        "lost_reason": _labels(LOST_REASONS, np.where(closed & ~won, o.lost_reason[order], -1)),
    }


def _stage_history_table(m: Model) -> dict[str, pa.Array]:
    """One row per stage entered by the end date, plus the closing row of closed deals."""
    o, cal = m.opps, m.cal
    entered = (o.entry >= 0) & (o.entry <= cal.bt_end)
    entered[:, 0] = True  # approach at created_at, which is never after the end date
    opp, stage = np.nonzero(entered)
    at = np.where(stage == 0, o.created[opp], cal.to_wall(o.entry[opp, stage]))
    by = np.where(stage == 0, o.approach_by[opp], o.owner[opp])
    closed = np.flatnonzero(o.closed(cal))
    opp = np.concatenate([opp, closed])
    stage = np.concatenate([stage, np.where(o.won[closed], CLOSED_WON, CLOSED_LOST)])
    at = np.concatenate([at, cal.to_wall(o.close_bt[closed])])
    by = np.concatenate([by, o.owner[closed]])
    order = np.lexsort((at, m.opp_no[opp]))
    return {
        "opportunity_id": _ids("OPP-", m.opp_no[opp[order]], 8),
        "opportunity_stage": _labels(STAGES, stage[order]),
        "changed_at": _timestamps(at[order]),
        "changed_by_id": _labels(m.org.user_id, by[order]),
    }


def _subscriptions_table(m: Model) -> dict[str, pa.Array]:
    s = m.subs
    it = s.items
    sub_no = _rank_ids([np.arange(len(s.company)), s.start_month])
    item_order = np.lexsort((sub_no[it["sub"]], it["start"]))
    sub = it["sub"][item_order]
    mrr = it["mrr"][item_order]
    product = np.searchsorted(PRODUCT_MRR_FLOOR, mrr, side="right") - 1
    opp = it["opp"][item_order]
    end = it["end"][item_order]
    return {
        "subscription_item_id": _ids("SI-", np.arange(1, len(sub) + 1), 8),
        "subscription_id": _ids("SUB-", sub_no[sub], 7),
        "account_id": _ids("ACC-", m.account_no[s.company[sub]], 8),
        "product": _labels(PRODUCTS, product),
        "start_date": _dates(it["start"][item_order]),
        "end_date": _dates(end, mask=end < 0),
        "mrr_amount": _ints(mrr),
        "currency": _const(CURRENCY, len(sub)),
        "opportunity_id": _ids("OPP-", np.where(opp >= 0, m.opp_no[np.maximum(opp, 0)], -1), 8),
    }


# ---------------------------------------------------------------------------------------------
# Activities
# ---------------------------------------------------------------------------------------------


@dataclass
class ActivityChunk:
    atype: np.ndarray
    bt: np.ndarray
    owner: np.ndarray
    outcome: np.ndarray
    duration: np.ndarray  # minutes, -1 when empty
    lead: np.ndarray  # lead index, -1
    opp: np.ndarray  # opportunity index, -1
    company: np.ndarray  # company index, -1
    subject: np.ndarray

    def select(self, keep: np.ndarray) -> ActivityChunk:
        return ActivityChunk(**{k: v[keep] for k, v in vars(self).items()})


def _day_quantile(bt: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day, bin and position within the bin of each time under a per-bin weight profile.

    The map is monotonic within a day, so an ordered schedule stays ordered.
    """
    day, tod = bt // WORK_SECONDS, bt % WORK_SECONDS
    cum = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
    u = tod / WORK_SECONDS
    b = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, len(weights) - 1)
    return day, b, (u - cum[b]) / (cum[b + 1] - cum[b])


def _within(new: np.ndarray, old: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.where((new >= lo) & (new <= hi), new, old)


def _shape_hours(bt: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Move times within their working day to follow HOUR_PROFILE, staying within [lo, hi]."""
    day, hour, frac = _day_quantile(bt, HOUR_PROFILE)
    tod = np.minimum(((hour + frac) * 3600).astype(np.int64), WORK_SECONDS - 1)
    return _within(day * WORK_SECONDS + tod, bt, lo, hi)


def _snap_meetings(bt: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Meetings start in half-hour slots 9:00-17:30 (MEETING_SLOTS), staying within [lo, hi]."""
    day, slot, _ = _day_quantile(bt, MEETING_SLOTS)
    return _within(day * WORK_SECONDS + slot * 1800, bt, lo, hi)


def _meeting_minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(np.array([30, 45, 60, 90]), size=n, p=[0.25, 0.2, 0.4, 0.15])


def _lead_activities(rng: np.random.Generator, m: Model, lo: int, hi: int) -> ActivityChunk:
    """Calls and e-mails of SDRs and agency reps on leads lo..hi-1."""
    leads, cal = m.leads, m.cal
    counts = leads.n_touch[lo:hi]
    parent, k = _repeat_index(counts)
    lead = lo + parent
    n = len(lead)
    n_touch = counts[parent]
    first, last = leads.first_bt[lead], leads.last_bt[lead]
    bt = _shape_hours(first + (rng.random(n) * (last - first)).astype(np.int64), first, last)
    bt = np.where(k == 0, first, np.where(k == n_touch - 1, last, bt))
    source = leads.source[lead]
    appointment = leads.plan_convert[lead] & (k == n_touch - 1)
    is_call = appointment | (rng.random(n) < P_CALL[source])
    connected = rng.random(n) < P_CONNECT[source]
    outcome = np.where(
        is_call,
        np.where(appointment, APPOINTMENT_SET, np.where(connected, CONNECTED, NO_ANSWER)),
        np.where(rng.random(n) < P_EMAIL_OPENED, OPENED, SENT),
    )
    minutes = np.where(connected, rng.integers(2, 16, n), rng.integers(0, 3, n))
    minutes = np.where(appointment, leads.appointment_minutes[lead], minutes)
    subject = np.where(
        is_call,
        np.where(appointment, 2, np.where(k == 0, 0, 1)),
        np.where(k == 0, FIRST_EMAIL_SUBJECT[source], 9),
    )
    account = np.where(leads.account_known[lead], leads.company[lead], -1)
    chunk = ActivityChunk(
        atype=np.where(is_call, CALL, EMAIL),
        bt=bt,
        owner=leads.owner[lead],
        outcome=outcome,
        duration=np.where(is_call, minutes, -1),
        lead=lead,
        opp=np.full(n, -1),
        company=account,
        subject=subject,
    )
    return chunk.select(bt <= cal.bt_end)


def _opp_activities(rng: np.random.Generator, m: Model, lo: int, hi: int) -> ActivityChunk:
    """Meetings, e-mails and tasks of AEs on opportunities lo..hi-1."""
    o, cal = m.opps, m.cal
    idx = np.arange(lo, hi)
    stages = (o.entry[idx] >= 0).sum(axis=1) + 1
    rate = np.where(o.otype[idx] == NEW, 1.1 * stages, 1.5)
    counts = 1 + rng.poisson(rate)
    parent, k = _repeat_index(counts)
    opp = idx[parent]
    n = len(opp)
    start, close = o.created_bt[opp], o.close_bt[opp]
    entry = o.entry[opp]
    next_entry = np.where(entry[:, 1:] >= 0, entry[:, 1:], NEVER).min(axis=1)
    first_end = np.minimum(next_entry, close)
    first = start + (rng.uniform(0.1, 0.7, n) * (first_end - start)).astype(np.int64)
    later = _shape_hours(start + (rng.random(n) * (close - start)).astype(np.int64), start, close)
    bt = np.where(k == 0, first, later)
    atype = np.where(k == 0, MEETING, rng.choice([MEETING, EMAIL, TASK], n, p=[0.45, 0.35, 0.2]))
    meeting = atype == MEETING
    bt = np.where(meeting, _snap_meetings(bt, start, close), bt)
    stage = ((entry >= 0) & (entry <= bt[:, None])).sum(axis=1) - 1
    stage = np.clip(stage, 0, 3)
    p_no_show = np.where(k == 0, 0.1, 0.04)
    outcome = np.select(
        [meeting, atype == EMAIL],
        [
            np.where(rng.random(n) < p_no_show, NO_SHOW, HELD),
            np.where(rng.random(n) < P_EMAIL_OPENED, OPENED, SENT),
        ],
        default=COMPLETED,
    )
    subject = np.select(
        [meeting, atype == EMAIL],
        [MEETING_SUBJECT_BY_STAGE[stage], EMAIL_SUBJECT_BY_STAGE[stage]],
        default=TASK_SUBJECT_BY_STAGE[stage],
    )
    chunk = ActivityChunk(
        atype=atype,
        bt=bt,
        owner=o.owner[opp],
        outcome=outcome,
        duration=np.where(meeting, _meeting_minutes(rng, n), -1),
        lead=np.full(n, -1),
        opp=opp,
        company=o.company[opp],
        subject=subject,
    )
    # Deals carried over from before the data start: only activities from the start on.
    return chunk.select((bt <= cal.bt_end) & (bt >= cal.bt_start))


def _cs_activities(rng: np.random.Generator, m: Model, month: int) -> ActivityChunk:
    """Customer-success check-ins with active customers during one month."""
    s, cal = m.subs, m.cal
    active = s.active_by_month[month]
    parent, _ = _repeat_index(rng.poisson(0.45, len(active)))
    sub = active[parent]
    n = len(sub)
    lo, hi = cal.month_bt_range(month)
    lo_a, hi_a = np.full(n, lo), np.full(n, max(int(hi), int(lo) + 1))
    bt = _shape_hours(_uniform_int(rng, lo_a, hi_a), lo_a, hi_a - 1)
    atype = rng.choice([MEETING, EMAIL, TASK], n, p=[0.4, 0.4, 0.2])
    meeting = atype == MEETING
    bt = np.where(meeting, _snap_meetings(bt, lo_a, hi_a - 1), bt)
    onboarding = month - s.start_month[sub] < 2
    outcome = np.select(
        [meeting, atype == EMAIL],
        [
            np.where(rng.random(n) < 0.05, NO_SHOW, HELD),
            np.where(rng.random(n) < 0.35, OPENED, SENT),
        ],
        default=COMPLETED,
    )
    subject = np.select(
        [meeting & onboarding, meeting, atype == EMAIL],
        [22, 23, np.where(rng.random(n) < 0.6, 24, 26)],
        default=25,
    )
    chunk = ActivityChunk(
        atype=atype,
        bt=bt,
        owner=s.cs_owner[sub],
        outcome=outcome,
        duration=np.where(meeting, _meeting_minutes(rng, n), -1),
        lead=np.full(n, -1),
        opp=np.full(n, -1),
        company=s.company[sub],
        subject=subject,
    )
    return chunk.select(bt <= cal.bt_end)


def _activity_columns(m: Model, c: ActivityChunk, first_no: int) -> dict[str, pa.Array]:
    order = np.lexsort((c.owner, c.bt))
    c = c.select(order)
    n = len(c.bt)
    opp_no = np.where(c.opp >= 0, m.opp_no[np.maximum(c.opp, 0)], -1)
    account = np.where(c.company >= 0, m.account_no[np.maximum(c.company, 0)], -1)
    return {
        "activity_id": _ids("ACT-", np.arange(first_no, first_no + n), 9),
        "activity_type": _labels(ACTIVITY_TYPES, c.atype),
        "activity_at": _timestamps(m.cal.to_wall(c.bt)),
        "owner_id": _labels(m.org.user_id, c.owner),
        "outcome": _labels(OUTCOMES, c.outcome),
        "duration_minutes": _ints(c.duration, mask=c.duration < 0),
        "lead_id": _ids("LEAD-", np.where(c.lead >= 0, c.lead + 1, -1), 8),
        "opportunity_id": _ids("OPP-", opp_no, 8),
        "account_id": _ids("ACC-", account, 8),
        "subject": _labels(SUBJECTS, c.subject),
    }


def _write_activities(m: Model, landing: Path) -> int:
    """Stream the activities to activities.csv, chunk by chunk."""
    sink = CsvSink(landing / "activities.csv", "activities")
    seed = m.seed

    def emit(chunk: ActivityChunk) -> None:
        sink.write(_activity_columns(m, chunk, sink.rows + 1))

    try:
        for i, lo in enumerate(range(0, len(m.leads), ACTIVITY_CHUNK)):
            hi = min(lo + ACTIVITY_CHUNK, len(m.leads))
            emit(_lead_activities(_rng(seed, _S_LEAD_ACTS, i), m, lo, hi))
        for i, lo in enumerate(range(0, len(m.opps), ACTIVITY_CHUNK)):
            hi = min(lo + ACTIVITY_CHUNK, len(m.opps))
            emit(_opp_activities(_rng(seed, _S_OPP_ACTS, i), m, lo, hi))
        for month in range(m.cal.n_months):
            emit(_cs_activities(_rng(seed, _S_CS_ACTS, month), m, month))
    finally:
        sink.close()
    return sink.rows


# ---------------------------------------------------------------------------------------------
# Spend and targets
# ---------------------------------------------------------------------------------------------


def _monthly_counts(month: np.ndarray, n_months: int, weights: np.ndarray | None = None):
    ok = (month >= 0) & (month < n_months)
    w = None if weights is None else weights[ok]
    return np.bincount(month[ok], weights=w, minlength=n_months)[:n_months]


def _spend_table(m: Model) -> dict[str, pa.Array]:
    """Monthly spend per channel (and per agency for 営業代行) in JPY."""
    rng = _rng(m.seed, _S_SPEND)
    cal, leads, org, scale = m.cal, m.leads, m.org, m.scale
    n_months = cal.n_months
    lead_month = cal.month_of(leads.created // DAY)
    by_source = np.stack(
        [_monthly_counts(lead_month[leads.source == s], n_months) for s in range(len(SOURCES))]
    )
    month_days = cal.month_start(np.arange(n_months))
    growth = cal.growth(month_days)
    moy = _months_abs(month_days) % 12 + 1

    def noise() -> np.ndarray:
        return rng.uniform(0.9, 1.1, n_months)

    inbound = INBOUND_WEB_FIXED * scale * growth * noise() + INBOUND_WEB_PER_LEAD * (
        by_source[WEB_INQUIRY] + by_source[DOC_DOWNLOAD]
    )
    cpl = PAID_CPL * np.where(np.isin(moy, (3, 12)), 1.15, 1.0) * noise()
    paid = by_source[PAID_ADS] * cpl
    webinars = _monthly_counts(cal.month_of(m.events["webinar_days"]), n_months)
    show_months = np.unique(cal.month_of(m.events["show_days"]))
    shows = _monthly_counts(show_months, n_months)
    events = scale * (EVENTS_FIXED + WEBINAR_COST * webinars + TRADE_SHOW_COST * shows * noise())
    o = m.opps
    won_ref = o.won & o.closed(m.cal) & (o.source == REFERRAL)
    ref_month = cal.month_of(cal.to_wall(o.close_bt[won_ref]) // DAY)
    referral = REFERRAL_FIXED * scale + REFERRAL_FEE_RATE * _monthly_counts(
        ref_month, n_months, o.amount[won_ref].astype(float)
    )
    month_end = cal.month_start(np.arange(1, n_months + 1)) - 1

    def headcount(users: np.ndarray) -> np.ndarray:
        employed = (org.hired[users][None, :] <= month_end[:, None]) & (
            org.left[users][None, :] >= month_days[:, None]
        )
        return employed.sum(axis=1)

    per_person = scale / max(1, round(scale))  # headcount scales in whole teams
    sdr_cost = SDR_MONTHLY_COST * headcount(org.members("sdr"))
    outbound = (sdr_cost + OUTBOUND_TOOLS) * per_person * noise()
    ae_cost = AE_MONTHLY_COST * headcount(org.members("ae"))
    field_sales = AE_PROSPECTING_SHARE * ae_cost * per_person * noise()

    rows: list[tuple[np.ndarray, str, int, str]] = [
        (inbound, "inbound_web", -1, "marketing"),
        (paid, "paid_media", -1, "marketing"),
        (events, "events", -1, "marketing"),
        (referral, "referral", -1, "marketing"),
        (outbound, "outbound", -1, "sales"),
        (field_sales, "field_sales", -1, "sales"),
    ]
    conv_month = cal.month_of(leads.converted_at // DAY)
    for a, (_, _, fee_model, _) in enumerate(AGENCIES):
        appointments = _monthly_counts(conv_month[leads.converted & (leads.agency == a)], n_months)
        if fee_model == "retainer":
            fee = np.full(n_months, AGENCY_RETAINER * scale)
        else:
            fee = AGENCY_BASE_FEE * scale + AGENCY_FEE_PER_APPOINTMENT * appointments
        rows.append((fee, "outsourced_sales", a, "agency_fee"))

    if {r[1] for r in rows} != set(CHANNELS):
        raise AssertionError("spend must cover every channel")
    months_abs = cal.first_month + np.arange(n_months)
    month_labels = [f"{1970 + x // 12:04d}-{x % 12 + 1:02d}" for x in months_abs]
    return {
        "spend_month": pa.array([lbl for _ in rows for lbl in month_labels]),
        "channel": pa.array([r[1] for r in rows for _ in range(n_months)]),
        "agency_id": _labels(
            [a[0] for a in AGENCIES], np.repeat(np.array([r[2] for r in rows]), n_months)
        ),
        "spend_category": pa.array([r[3] for r in rows for _ in range(n_months)]),
        "amount": _ints(np.concatenate([np.round(r[0], -2) for r in rows])),
        "currency": _const(CURRENCY, len(rows) * n_months),
    }


def _budget(
    rng: np.random.Generator, actual: np.ndarray, target_months: np.ndarray, money: bool
) -> np.ndarray:
    """Monthly budget for target months (data month indices, may lie outside the data)."""
    n_months = len(actual)
    mean = float(actual.mean()) if n_months else 0.0
    smooth = 0.6 * actual + 0.4 * mean
    base = np.empty(len(target_months))
    for i, t in enumerate(target_months):
        if 0 <= t < n_months:
            base[i] = smooth[t]
            continue
        shifts = [j for j in range(-5, 6) if 0 <= t + 12 * j < n_months]
        if shifts:  # same calendar month in another year, adjusted for growth
            j = min(shifts, key=abs)
            base[i] = smooth[t + 12 * j] / GROWTH_PER_YEAR**j
        else:
            base[i] = mean
    value = base * rng.lognormal(np.log(1.06), 0.1, len(base))
    if money:
        return np.maximum(np.round(value, -5), 100_000)
    return np.maximum(np.round(value), 1)


def _targets_table(m: Model) -> dict[str, pa.Array]:
    """Monthly budgets per team and company, plus the fiscal-year won_amount budget."""
    rng = _rng(m.seed, _S_TARGETS)
    cal, org, o, leads = m.cal, m.org, m.opps, m.leads
    n_months = cal.n_months
    fy_first = cal.start.year if cal.start.month >= 4 else cal.start.year - 1
    fy_last = cal.end.year if cal.end.month >= 4 else cal.end.year - 1
    first_abs = (fy_first - 1970) * 12 + 3
    months_abs = np.arange(first_abs, (fy_last + 1 - 1970) * 12 + 3)
    target_months = months_abs - cal.first_month

    closed_won = o.won & o.closed(cal)
    close_month = cal.month_of(cal.to_wall(o.close_bt) // DAY)
    created_month = cal.month_of(o.created // DAY)
    lead_month = cal.month_of(leads.created // DAY)
    conv_month = cal.month_of(np.where(leads.converted, leads.converted_at, 0) // DAY)
    opp_team, lead_team = org.team[o.owner], org.team[leads.owner]

    rows: list[tuple[str, str, np.ndarray]] = []  # (kpi, scope_id, monthly values)
    company: dict[str, np.ndarray] = {}
    for t, team in enumerate(org.teams):
        series: dict[str, tuple[np.ndarray, bool]] = {}
        if team.kind == "ae":
            mine = opp_team == t
            won = mine & closed_won
            series["won_amount"] = (
                _monthly_counts(close_month[won], n_months, o.amount[won].astype(float)),
                True,
            )
            series["deals_won"] = (_monthly_counts(close_month[won], n_months), False)
            series["opportunities_created"] = (
                _monthly_counts(created_month[mine], n_months),
                False,
            )
        elif team.kind in ("sdr", "agency"):
            mine = lead_team == t
            conv = mine & leads.converted
            # SDR and agency teams are measured on the opportunities sourced from their leads.
            series["opportunities_sourced"] = (_monthly_counts(conv_month[conv], n_months), False)
            series["leads_created"] = (_monthly_counts(lead_month[mine], n_months), False)
        for kpi, (actual, money) in series.items():
            values = _budget(rng, actual, target_months, money)
            rows.append((kpi, team.team_id, values))
            partition = team.kind == "ae" or kpi == "leads_created"
            if partition:
                company[kpi] = company.get(kpi, 0) + values
    for kpi in ("won_amount", "deals_won", "opportunities_created", "leads_created"):
        if kpi in company:
            rows.append((kpi, "company", company[kpi]))

    n = len(months_abs)
    month_days = _month_first_day(months_abs)
    kpi_col = [r[0] for r in rows for _ in range(n)]
    scope_id = [r[1] for r in rows for _ in range(n)]
    grain = ["month"] * (len(rows) * n)
    start = [month_days] * len(rows)
    values = [r[2] for r in rows]
    if "won_amount" in company:  # fiscal-year company budget = sum of its months
        fy_values = company["won_amount"].reshape(-1, 12).sum(axis=1)
        fy_days = month_days[::12]
        kpi_col += ["won_amount"] * len(fy_days)
        scope_id += ["company"] * len(fy_days)
        grain += ["fiscal_year"] * len(fy_days)
        start.append(fy_days)
        values.append(fy_values)
    scope_type = ["company" if s == "company" else "team" for s in scope_id]
    return {
        "kpi_code": pa.array(kpi_col),
        "period_grain": pa.array(grain),
        "period_start_date": _dates(np.concatenate(start)),
        "scope_type": pa.array(scope_type),
        "scope_id": pa.array(scope_id),
        "target_value": _ints(np.concatenate(values)),
        "currency": pa.array([CURRENCY if k == "won_amount" else None for k in kpi_col]),
        "scenario": _const("budget", len(kpi_col)),
    }


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def generate(
    landing_dir: Path,
    *,
    scale: float = 1.0,
    seed: int = 42,
    end_date: date = date(2026, 10, 31),
    months: int = 30,
    log: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write one canonical CSV per entity into `landing_dir`; return rows written per entity.

    scale 1.0 gives about 200,000 activities; `months` months of data end on `end_date`.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    if months < 1:
        raise ValueError("months must be at least 1")
    if seed < 0:
        raise ValueError("seed must be non-negative")
    say = log or (lambda _msg: None)
    landing = Path(landing_dir)
    landing.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    model = build_model(Calendar.build(end_date, months), scale, seed)
    say(f"{'(model)':<28}{'':>12}      {time.perf_counter() - t0:7.1f}s")

    writers: dict[str, Callable[[], int]] = {
        "agencies": lambda: _write_entity(landing, "agencies", _agencies_table()),
        "users": lambda: _write_entity(landing, "users", _users_table(model)),
        "accounts": lambda: _write_entity(landing, "accounts", _accounts_table(model)),
        "contacts": lambda: _write_entity(landing, "contacts", _contacts_table(model)),
        "leads": lambda: _write_entity(landing, "leads", _leads_table(model)),
        "opportunities": lambda: _write_entity(
            landing, "opportunities", _opportunities_table(model)
        ),
        "opportunity_stage_history": lambda: _write_entity(
            landing, "opportunity_stage_history", _stage_history_table(model)
        ),
        "subscriptions": lambda: _write_entity(
            landing, "subscriptions", _subscriptions_table(model)
        ),
        "spend": lambda: _write_entity(landing, "spend", _spend_table(model)),
        "targets": lambda: _write_entity(landing, "targets", _targets_table(model)),
        "activities": lambda: _write_activities(model, landing),
    }
    counts: dict[str, int] = {}
    for entity in writers:
        t = time.perf_counter()
        counts[entity] = writers[entity]()
        say(f"{entity:<28}{counts[entity]:>12,} rows {time.perf_counter() - t:7.1f}s")
    say(f"{'total':<28}{sum(counts.values()):>12,} rows {time.perf_counter() - t0:7.1f}s")
    return {entity: counts[entity] for entity in ENTITY_ORDER if entity in counts}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.demo.generate",
        description="Write deterministic demo CRM exports in the canonical CSV format.",
    )
    parser.add_argument("--landing", type=Path, required=True, help="landing folder to write")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 ≈ 200,000 activities")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 10, 31))
    parser.add_argument("--months", type=int, default=30)
    args = parser.parse_args(argv)
    print(f"writing demo data to {args.landing} (scale {args.scale}, seed {args.seed})")
    generate(
        args.landing,
        scale=args.scale,
        seed=args.seed,
        end_date=args.end_date,
        months=args.months,
        log=lambda msg: print(msg, flush=True),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
