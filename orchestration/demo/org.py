"""The selling organisation: agencies, teams and users, and who owns what when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from orchestration.demo.calendar import Calendar
from orchestration.demo.common import NEVER, epoch_day

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

AGENCIES = (
    ("AG01", "株式会社セールスブースト", "retainer", "セールスブースト"),
    ("AG02", "アポイントプロ株式会社", "per_appointment", "アポイントプロ"),
)


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


def build_org(rng: np.random.Generator, cal: Calendar, scale: float) -> Org:
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
        epoch_day(date(y, 4, 1))
        for y in range(cal.start.year, cal.end.year + 1)
        if start_day + 30 < epoch_day(date(y, 4, 1)) < end_day - 60
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
            if april_firsts:  # a new graduate joins on April 1 (新卒入社, the school year)
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


def pick_owner(
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
