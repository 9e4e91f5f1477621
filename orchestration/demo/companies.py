"""Prospect and customer companies (accounts to be) and their contacts' reference data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.demo.writer import concat_strings, id_column, label_column

EMPLOYEE_BANDS = ("1-49", "50-299", "300-999", "1000+")

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


def company_names(c: Companies, idx: np.ndarray) -> pa.Array:
    core = concat_strings(
        label_column(COMPANY_STEMS, c.stem[idx]),
        label_column(COMPANY_MIDDLES, c.middle[idx]),
        label_column([k for k, _ in COMPANY_KINDS], c.kind[idx]),
    )
    form = c.form[idx]
    prefix = label_column(("株式会社", "", "合同会社"), form)
    suffix = label_column(("", "株式会社", ""), form)
    return concat_strings(prefix, core, suffix)


def corporate_numbers(idx: np.ndarray) -> pa.Array:
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
    return id_column("", check * 10**12 + base, 13)
